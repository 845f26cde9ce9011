"""UI strings in Chinese (default) and English: a small dictionary, no .qm files needed."""
from __future__ import annotations

from planatlas.layers.model import CATEGORY_LABELS

__all__ = ["tr", "set_language", "language", "category_label", "plan_name", "crs_label",
           "LANGUAGES"]

LANGUAGES = ("zh", "en")
_lang = "zh"

STRINGS: dict[str, tuple[str, str]] = {
    "app.title": ("规划图谱 PlanAtlas", "PlanAtlas"),
    # docks
    "dock.layers": ("图层", "Layers"),
    "dock.feature": ("地点详情", "Feature"),
    "dock.plan": ("规划文本", "Plans"),
    "dock.search": ("搜索", "Search"),
    "dock.sites": ("地点列表", "Site list"),
    # menus
    "menu.file": ("文件(&F)", "&File"),
    "menu.view": ("视图(&V)", "&View"),
    "menu.tools": ("工具(&T)", "&Tools"),
    "menu.bookmarks": ("书签(&B)", "&Bookmarks"),
    "menu.language": ("语言 / Language", "Language / 语言"),
    "menu.panels": ("面板", "Panels"),
    "act.quit": ("退出", "Quit"),
    "act.export_png": ("导出地图（PNG/PDF/SVG）…", "Export map (PNG/PDF/SVG)…"),
    "act.export_html": ("导出交互式网页地图（HTML）…", "Export interactive map (HTML)…"),
    "act.export_data": ("导出数据（GeoJSON/GPKG/KML/GPX/CSV/XLSX）…", "Export data (GeoJSON/GPKG/KML/GPX/CSV/XLSX)…"),
    "menu.export": ("导出", "Export"),
    "site.print": ("打印核查清单…", "Print checklist…"),
    "site.print_crs": ("清单坐标系：", "Coordinates in the list:"),
    "act.clear_survey": ("清除核查图层", "Clear survey layer"),
    "act.survey": ("导入现场核查…", "Import field survey…"),
    "survey.saved": ("已保存 {n} 个核实位置，地图已更新。",
                     "{n} verified positions saved; the map shows them now."),
    "act.team_store": ("团队数据库…", "Team store…"),
    "store.title": ("团队数据库（PostGIS）", "Team store (PostGIS)"),
    "store.url": ("服务器：", "Server:"),
    "store.url_hint": ("postgresql://用户@主机:5432/数据库 或 service=名称",
                       "postgresql://user@host:5432/database or service=NAME"),
    "store.password": ("密码（仅用于测试连接，不保存）：", "Password (for the test only, never saved):"),
    "store.save_pgpass": ("将密码写入 libpq 密码文件（~/.pgpass，仅本人可读）",
                          "Save the password in libpq's password file (~/.pgpass, private)"),
    "store.test": ("测试连接", "Test connection"),
    "store.use": ("使用此团队数据库", "Use this team store"),
    "store.embedded": ("使用本机数据库（无需服务器）", "Use the embedded store (no server)"),
    "store.sync": ("立即同步", "Sync now"),
    "store.testing": ("正在连接…", "Connecting…"),
    "store.current": ("当前：{what}", "Current: {what}"),
    "store.saved": ("已保存。重新启动 PlanAtlas 后使用：{what}", "Saved. PlanAtlas uses it after a restart: {what}"),
    "store.live": ("{who} {what}（{n} 处变化）", "{who}: {what} ({n} change(s))"),
    "store.offline": ("团队数据库无法连接，正在离线工作", "Team store unreachable: working offline"),
    "store.online": ("团队数据库已重新连接", "Team store reachable again"),
    "store.warning": ("数据存储提示", "Store notice"),
    "store.undo_none": ("没有可撤销的操作", "Nothing to undo"),
    "conflict.title": ("编辑冲突", "Edit conflict"),
    "conflict.text": ("“{name}”已被 {who} 于 {when} 修改（第 {v} 版），您的修改基于第 {base} 版。请选择保留哪一个：",
                      "“{name}” was changed by {who} at {when} (version {v}); your change was based on "
                      "version {base}. Choose which to keep:"),
    "conflict.mine": ("我的修改", "Mine"),
    "conflict.theirs": ("对方的修改", "Theirs"),
    "conflict.keep_mine": ("使用我的", "Use mine"),
    "conflict.keep_theirs": ("保留对方的", "Keep theirs"),
    "act.zoom_in": ("放大", "Zoom in"),
    "act.zoom_out": ("缩小", "Zoom out"),
    "act.zoom_full": ("缩放至全部要素", "Zoom to all features"),
    "act.zoom_selection": ("缩放至所选", "Zoom to selection"),
    "act.clear_selection": ("清除选择", "Clear selection"),
    "act.pan": ("平移 / 选择", "Pan / select"),
    "act.measure": ("测量距离", "Measure distance"),
    "act.add_bookmark": ("添加当前视图为书签…", "Bookmark current view…"),
    "act.remove_bookmark": ("删除书签", "Remove bookmark"),
    "act.lang_zh": ("中文", "中文 (Chinese)"),
    "act.lang_en": ("English", "English"),
    "bookmarks.plans": ("规划范围", "Plan areas"),
    "bookmarks.user": ("我的书签", "My bookmarks"),
    "bookmarks.name": ("书签名称：", "Bookmark name:"),
    "bookmarks.none": ("（无）", "(none)"),
    # status bar
    "status.wgs84": ("WGS-84", "WGS-84"),
    "status.gcj02": ("GCJ-02", "GCJ-02"),
    "status.bd09": ("BD-09", "BD-09"),
    "status.cgcs2000": ("CGCS2000", "CGCS2000"),
    "status.coords_tip": ("鼠标位置的坐标。单击可复制，或选择要显示的坐标系。",
                          "Coordinates under the mouse. Click to copy them or choose the systems shown."),
    "status.show_crs": ("在状态栏显示", "Show in the status bar"),
    "status.copied": ("已复制 {crs} 坐标：{text}", "Copied {crs} coordinates: {text}"),
    "status.area": ("面积：{a} · 周长：{p}（{n} 个顶点）", "Area: {a} · perimeter: {p} ({n} vertices)"),
    "status.area_hint": ("单击添加多边形顶点，双击或右击闭合，Esc 清除",
                         "Click to add polygon vertices, double- or right-click to close, Esc clears"),
    # coordinate systems (search, copy, checklists)
    "crs.wgs84": ("WGS-84（GPS）", "WGS-84 (GPS)"),
    "crs.gcj02": ("GCJ-02（高德/腾讯）", "GCJ-02 (Amap/Tencent)"),
    "crs.bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "crs.cgcs2000": ("CGCS2000（国家大地坐标系）", "CGCS2000 (China Geodetic 2000)"),
    # map menus (desktop/map_menus.py)
    "map.what_here": ("这里有什么？", "What is here?"),
    "map.copy_coords": ("复制坐标", "Copy coordinates"),
    "map.measure_here": ("从这里测量距离", "Measure distance from here"),
    "map.area_here": ("从这里测量面积", "Measure area from here"),
    "map.bookmark_here": ("以此处为中心添加书签…", "Bookmark a view centred here…"),
    "map.nothing_here": ("此处没有地点（{coords}）", "No place here ({coords})"),
    "map.hits": ("此处有 {n} 个地点：", "{n} places here:"),
    "map.select_all": ("全部选择（{n} 个）", "Select all ({n})"),
    "act.measure_area": ("测量面积", "Measure area"),
    "act.search": ("查找地点或坐标", "Find a place or coordinates"),
    "status.zoom": ("缩放 {z:.1f} · 1像素≈{m}", "zoom {z:.1f} · 1 px ≈ {m}"),
    "status.selected": ("已选 {n} 个", "{n} selected"),
    "status.measure": ("测距：{d}（{n} 段）", "Distance: {d} ({n} segments)"),
    "status.measure_hint": ("单击添加测量点，双击结束，Esc 清除", "Click to add points, double-click to finish, Esc clears"),
    # layers panel
    "layers.legend": ("图例", "Legend"),
    "layers.zoom_to": ("缩放至图层", "Zoom to layer"),
    "layers.color": ("更改颜色…", "Change colour…"),
    "layers.size": ("更改符号大小…", "Change symbol size…"),
    "layers.size_prompt": ("符号大小（像素）：", "Symbol size (pixels):"),
    "layers.all_on": ("全部显示", "Show all"),
    "layers.all_off": ("全部隐藏", "Hide all"),
    "legend.approx": ("近似位置（光晕=精度范围）", "Approximate position (halo = precision)"),
    "legend.halos": ("显示所有近似位置的精度光晕", "Show the precision halo of every approximate position"),
    "layers.halos": ("精度光晕", "Precision halos"),
    "legend.schematic": ("示意范围（虚线/斜线）", "Schematic area (dashed/hatched)"),
    "legend.selected": ("已选要素", "Selected feature"),
    "layers.opacity": ("不透明度…", "Opacity…"),
    "layers.opacity_prompt": ("不透明度（%）：", "Opacity (%):"),
    "layers.up": ("上移", "Move up"),
    "layers.down": ("下移", "Move down"),
    "layers.group.basemap": ("底图", "Basemap"),
    "layers.group.overlays": ("叠加图层", "Overlays"),
    "survey.confirmed": ("确认", "confirmed"),
    "survey.moved": ("移位", "moved"),
    "survey.unmatched": ("未匹配", "unmatched"),
    "survey.invalid": ("无效", "invalid"),
    # survey dialog (desktop/survey_dialog.py)
    "sv.title": ("导入现场核查", "Import field survey"),
    "sv.browse": ("浏览…", "Browse…"),
    "sv.file": ("文件", "File"),
    "sv.crs": ("坐标系", "Coordinates"),
    "sv.tolerance": ("容差", "Tolerance"),
    "sv.plans": ("规划", "Plans"),
    "sv.plans_tip": ("不勾选 = 全部规划", "None ticked = all plans"),
    "sv.auto": ("自动识别", "Detect automatically"),
    "sv.check": ("检查", "Check"),
    "sv.cancel": ("取消", "Cancel"),
    "sv.accept": ("接受所选", "Accept selected"),
    "sv.export": ("导出报告…", "Export report…"),
    "sv.close": ("关闭", "Close"),
    "sv.pick": ("选择核查文件后点击“检查”。", "Pick a survey file and press Check."),
    "sv.choose_file": ("请先选择核查文件。", "Choose a survey file first."),
    "sv.checking": ("正在检查 {name} …", "Checking {name} …"),
    "sv.cancelling": ("正在取消 …", "Cancelling …"),
    "sv.failed": ("无法检查：{msg}", "Cannot check: {msg}"),
    "sv.cancelled": ("已取消。", "Cancelled."),
    "sv.summary": ("{name}：共 {rows} 行 — 确认 {confirmed} · 移位 {moved} · 未匹配 {unmatched} · "
                   "无效 {invalid} · 未调查 {not_surveyed}",
                   "{name}: {rows} rows — {confirmed} confirmed · {moved} moved · {unmatched} "
                   "unmatched · {invalid} invalid · {not_surveyed} not surveyed"),
    "sv.summary_crs": ("坐标系：{crs}（{status}{conf}）", "Coordinates: {crs} ({status}{conf})"),
    "sv.crs_detected": ("自动识别", "detected"),
    "sv.crs_given": ("指定", "as chosen"),
    "sv.crs_undetermined": ("无法判断", "undetermined"),
    "sv.accepted": ("已接受 {n} 个地点，地图已更新", "Accepted {n} places; the map shows them now"),
    "sv.skipped": ("，跳过 {n} 行", ", skipped {n} rows"),
    "sv.undo": ("（撤销：planatlas undo）", " (undo: planatlas undo)"),
    "sv.file_dialog": ("核查文件", "Survey file"),
    "sv.file_filter": ("核查文件", "Surveys"),
    "sv.all_files": ("所有文件", "All files"),
    "sv.export_title": ("导出报告", "Export report"),
    "sv.cannot_write": ("无法写入报告：{msg}", "Cannot write the report: {msg}"),
    "sv.col_row": ("行", "Row"),
    "sv.col_name": ("名称", "Name"),
    "sv.col_feature": ("地点", "Place"),
    "sv.col_status": ("状态", "Status"),
    "sv.col_distance": ("距离（米）", "Distance (m)"),
    "sv.col_message": ("说明", "Message"),
    "sv.meters": (" 米", " m"),
    # feature panel
    "feature.none": ("在地图上单击一个地点查看详情。", "Click a place on the map to see its details."),
    "feature.aliases": ("别名", "Aliases"),
    "feature.categories": ("类别", "Categories"),
    "feature.tier": ("等级", "Tier"),
    "feature.district": ("所在区", "District"),
    "feature.precision": ("位置精度", "Precision"),
    "feature.status": ("状态", "Status"),
    "feature.source": ("来源", "Source"),
    "feature.method": ("定位方法", "Method"),
    "feature.ref": ("参考", "Reference"),
    "feature.conversion": ("坐标转换", "Conversion"),
    "feature.converted": ("{conv}（layers.crs，仅一次）", "{conv} (layers.crs, once)"),
    "feature.precision_value": ("±{m} 米", "±{m} m"),
    "feature.unverified": ("未经核实的估计", "unverified estimate"),
    "method.direct": ("直接引用公开坐标", "published coordinate of the place"),
    "method.proxy": ("代理点（如其下的地铁站）", "proxy (e.g. the metro station under it)"),
    "method.area_centroid": ("片区中心", "area centroid"),
    "method.town_centroid": ("镇中心", "town centroid"),
    "method.estimate": ("估计（无公开坐标）", "estimate (no published coordinate)"),
    "method.survey": ("实地核查", "field survey"),
    "feature.plans": ("规划", "Plans"),
    "feature.clauses": ("提及条款", "Clauses mentioning it"),
    "feature.targets": ("相关目标", "Targets"),
    "feature.no_clauses": ("没有条款提及此地点。", "No clause mentions this place."),
    "feature.lines": ("第{a}–{b}行", "lines {a}–{b}"),
    "feature.line": ("第{a}行", "line {a}"),
    "status.approximate": ("近似", "approximate"),
    "status.verified": ("已核实", "verified"),
    "schematic": ("示意", "schematic"),
    # targets table
    "col.indicator": ("指标", "Indicator"),
    "col.year": ("年份", "Year"),
    "col.comparator": ("比较", "Comparator"),
    "col.value": ("数值", "Value"),
    "col.unit": ("单位", "Unit"),
    "col.scope": ("范围", "Scope"),
    "col.clause": ("条款", "Clause"),
    "col.line": ("行", "Line"),
    "col.kind": ("类型", "Kind"),
    # plan panel
    "plan.clauses": ("条款", "Clauses"),
    "plan.source": ("原文", "Source text"),
    "plan.targets": ("目标", "Targets"),
    "plan.select": ("规划：", "Plan:"),
    # search
    "search.placeholder": ("搜索地点、拼音、条款文字或坐标（如 113.32,23.11）…",
                           "Search places, pinyin, clause text or coordinates (113.32,23.11)…"),
    "search.location": ("坐标", "Location"),
    "search.crs": ("输入坐标的坐标系（也可在坐标后写 gcj02、bd09 等）",
                   "System of typed coordinates (or write gcj02, bd09 … after them)"),
    "search.pinyin": ("拼音", "pinyin"),
    "search.bad_coords": ("坐标无效：{why}", "Invalid coordinates: {why}"),
    "search.none": ("没有结果", "No results"),
    "search.feature": ("地点", "Place"),
    "search.clause": ("条款", "Clause"),
    # site list
    "sites.name": ("名称", "Name"),
    "sites.categories": ("类别", "Categories"),
    "sites.plans": ("规划", "Plans"),
    "sites.district": ("区", "District"),
    "sites.tier": ("等级", "Tier"),
    "sites.status": ("状态", "Status"),
    "sites.precision": ("精度(米)", "Precision (m)"),
    "sites.clauses": ("条款数", "Clauses"),
    "sites.all": ("全部", "All"),
    "sites.in_view": ("仅当前视图", "In view only"),
    "sites.filter": ("筛选名称…", "Filter names…"),
    "sites.city_all": ("{city}（全部）", "{city} (all)"),
    "sites.citywide": ("{city}（跨区/全市范围）", "{city} (city-wide, several districts)"),
    "site.print_file": ("核查清单.pdf", "planatlas-checklist.pdf"),
    "sites.count": ("{n} / {total} 个地点", "{n} / {total} places"),
    "tool.hint": ("拖动平移 · 滚轮缩放 · Shift+拖动框选 · 单击查看", "Drag to pan · wheel to zoom · Shift-drag to select · click to identify"),
    # targets window (desktop/targets_window.py)
    "act.targets": ("目标对比…", "Compare targets…"),
    "col.canonical": ("规范指标", "Canonical indicator"),
    "targets.title": ("目标对比 — 各规划目标一览", "Targets at a glance — plans compared"),
    "targets.indicator": ("指标：", "Indicator:"),
    "targets.all": ("全部指标", "All indicators"),
    "targets.group": ("【{name}】", "[{name}]"),
    "targets.plans": ("规划（{n}/{total}）", "Plans ({n}/{total})"),
    "targets.baselines": ("含基期数据", "Include baselines"),
    "targets.other": ("含未归类目标", "Include unclassified"),
    "targets.tab_table": ("目标表", "Table"),
    "targets.tab_bars": ("分组柱状图", "Bars by plan"),
    "targets.tab_timeline": ("目标年份", "Target years"),
    "targets.tab_growth": ("年均增速", "Annual growth"),
    "targets.export_png": ("导出 PNG…", "Export PNG…"),
    "targets.export_svg": ("导出 SVG…", "Export SVG…"),
    "targets.exported": ("已导出：{path}", "Exported: {path}"),
    "targets.status": ("{rows} 行 · {plans} 个规划 · 已归类目标 {mapped}/{total}（{share}%）· 单击一行在地图上显示条款及地点",
                       "{rows} rows · {plans} plans · classified targets {mapped}/{total} ({share}%) · click a row to show its clause and places"),
    "tcol.plan": ("规划", "Plan"),
    "tcol.indicator": ("规范指标", "Indicator"),
    "tcol.year": ("年份", "Year"),
    "tcol.comparator": ("比较", "Cmp."),
    "tcol.display": ("目标值", "Target"),
    "tcol.display_unit": ("单位", "Unit"),
    "tcol.written": ("原文数值", "As written"),
    "tcol.growth": ("年均增速", "Growth/yr"),
    "tcol.clause": ("条款", "Clause"),
    "tcol.source": ("原文指标", "Indicator as written"),
    "tcol.evidence": ("归类依据", "Why this indicator"),
    "tcol.note": ("备注", "Note"),
    "targets.note_dup": ("同 {id}", "same as {id}"),
    "targets.note_cum": ("累计值", "cumulative"),
    "targets.note_base": ("基期", "baseline"),
    "targets.note_implied": ("推算 {value}", "implies {value}"),
    "growth.stated": ("明示", "stated"),
    "growth.cagr": ("推算", "computed"),
    "growth.multiple": ("倍数推算", "from multiple"),
}

CATEGORY_SHORT = {
    "commercial_district": ("商圈", "Commercial"),
    "night_economy": ("夜间经济", "Night economy"),
    "logistics_hub": ("物流枢纽", "Logistics"),
    "scenic_area": ("景区", "Scenic"),
}


def set_language(lang: str) -> None:
    global _lang
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (use one of {LANGUAGES})")
    _lang = lang


def language() -> str:
    return _lang


def tr(key: str, *, lang: str | None = None, **fmt) -> str:
    """The text of ``key`` in ``lang`` (default: the UI language), formatted with ``fmt``."""
    pair = STRINGS.get(key)
    if pair is None:
        text = key
    else:
        text = pair[0] if (lang or _lang) == "zh" else pair[1]
    return text.format(**fmt) if fmt else text


def plan_name(atlas, plan_id: str, lang: str | None = None) -> str:
    """The plan's name as people read it (广州市, Binhai New Area) — never its id in the UI."""
    from planatlas.layers.cite import plan_label
    plan = getattr(atlas, "plans", {}).get(plan_id)
    return plan_label(plan, lang or _lang) if plan is not None else plan_id


def crs_label(system: str) -> str:
    """``gcj02`` → GCJ-02（高德/腾讯）."""
    return tr(f"crs.{system}") if f"crs.{system}" in STRINGS else system


def category_label(cat: str, *, short: bool = False) -> str:
    table = CATEGORY_SHORT if short else CATEGORY_LABELS
    pair = table.get(cat)
    if pair is None:
        return cat
    return pair[0] if _lang == "zh" else pair[1]

"""A small, self-contained atlas for the desktop tests (same API as layers.atlas.Atlas).

Built from the shared dataclasses with a few real Guangzhou / Binhai places, so the desktop
can be tested without the full gazetteer. Mentions are found by plain substring search.
"""
from __future__ import annotations

from shapely.geometry import LineString, Point, Polygon

from planatlas.layers.model import Clause, Feature, Mention, Plan, Region, Target


def _feature(fid, name, cats, plans, geom, *, aliases=(), district="天河区", tier=None,
             precision=50.0, status="verified", schematic=False, subtype="商圈"):
    return Feature(id=fid, name=name, aliases=list(aliases), categories=list(cats),
                   subtype=subtype, tier=tier, plans=list(plans), district=district,
                   adcode="440106", geometry=geom, precision_m=precision,
                   source="test fixture", status=status, schematic=schematic)


def _plan(pid, title, region, lines, clauses_spec, targets_spec):
    clauses = []
    for cid, number, heading, text, parent, level, span in clauses_spec:
        clauses.append(Clause(id=f"{pid}:{cid}", plan=pid, number=number, heading=heading,
                              text=text, parent=f"{pid}:{parent}" if parent else None,
                              level=level, lines=span))
    targets = []
    for k, (cid, ind, year, cmp_, val, unit, scope, line) in enumerate(targets_spec, 1):
        targets.append(Target(id=f"{pid}:t{k:03d}", plan=pid, clause=f"{pid}:{cid}",
                              indicator=ind, year=year, comparator=cmp_, value=val, unit=unit,
                              scope=scope, line=line, surface=f"{ind}{val}{unit}"))
    return Plan(id=pid, title=title, issuer="测试", issued="2022-01", period=(2021, 2025),
                region=region, file=f"seeds/{pid}.txt", encoding="utf-8",
                source_lines=lines, clauses=clauses, targets=targets)


GZ_LINES = [
    "广州市商务发展第十四个五年规划",
    "一、发展目标",
    "到2025年，社会消费品零售总额达到12500亿元。",
    "二、重点任务",
    "（一）建设国际知名商圈",
    "推动天河路商圈、北京路步行街提质升级，打造珠江新城中央商务区。",
    "天河路商圈社会消费品零售总额达到2000亿元。",
    "（二）发展夜间经济",
    "打造北京路、珠江琶醍等夜间经济集聚区。",
    "（三）建设物流枢纽",
    "加快南沙港区、白云机场物流园建设，集装箱吞吐量达到2800万标准箱。",
    "（四）文旅融合",
    "提升长隆旅游度假区、越秀公园品质。",
]

BH_LINES = [
    "天津市滨海新区商务发展规划",
    "一、重点任务",
    "建设于家堡金融区商圈和天津港保税区冷链物流基地。",
    "东疆港区集装箱吞吐量达到2500万标准箱。",
]


class SyntheticAtlas:
    def __init__(self):
        from planatlas.layers.basemap import load_basemap
        self.basemap = load_basemap()
        gz_region = Region("广东省", "广州市", "", "440100")
        bh_region = Region("天津市", "天津市", "滨海新区", "120116")
        gz = _plan("guangzhou", "广州市商务发展第十四个五年规划", gz_region, GZ_LINES, [
            ("一", "一、", "发展目标", "到2025年，社会消费品零售总额达到12500亿元。", None, 1, (2, 3)),
            ("二", "二、", "重点任务", "", None, 1, (4, 4)),
            ("二.(一)", "（一）", "建设国际知名商圈",
             "推动天河路商圈、北京路步行街提质升级，打造珠江新城中央商务区。"
             "天河路商圈社会消费品零售总额达到2000亿元。", "二", 2, (5, 7)),
            ("二.(二)", "（二）", "发展夜间经济", "打造北京路、珠江琶醍等夜间经济集聚区。", "二", 2, (8, 9)),
            ("二.(三)", "（三）", "建设物流枢纽",
             "加快南沙港区、白云机场物流园建设，集装箱吞吐量达到2800万标准箱。", "二", 2, (10, 11)),
            ("二.(四)", "（四）", "文旅融合", "提升长隆旅游度假区、越秀公园品质。", "二", 2, (12, 13)),
        ], [
            ("一", "社会消费品零售总额", 2025, ">=", 12500.0, "亿元", "全市", 3),
            ("二.(一)", "社会消费品零售总额", 2025, ">=", 2000.0, "亿元", "天河路商圈", 7),
            ("二.(三)", "集装箱吞吐量", 2025, ">=", 2800.0, "万标准箱", "全市", 11),
        ])
        bh = _plan("binhai", "天津市滨海新区商务发展规划", bh_region, BH_LINES, [
            ("一", "一、", "重点任务",
             "建设于家堡金融区商圈和天津港保税区冷链物流基地。东疆港区集装箱吞吐量达到2500万标准箱。",
             None, 1, (2, 4)),
        ], [
            ("一", "集装箱吞吐量", 2025, ">=", 2500.0, "万标准箱", "东疆港区", 4),
        ])
        self.plans = {"guangzhou": gz, "binhai": bh}
        feats = [
            _feature("gz-tianhe-road", "天河路商圈", ["commercial_district"], ["guangzhou"],
                     LineString([(113.3150, 23.1372), (113.3290, 23.1375), (113.3395, 23.1378)]),
                     aliases=["天河路"], tier="国际级"),
            _feature("gz-beijing-road", "北京路步行街", ["commercial_district", "night_economy"],
                     ["guangzhou"], LineString([(113.2690, 23.1250), (113.2693, 23.1300)]),
                     aliases=["北京路"], district="越秀区", tier="国家级"),
            _feature("gz-zhujiang-newtown", "珠江新城中央商务区", ["commercial_district"],
                     ["guangzhou"],
                     Polygon([(113.3140, 23.1130), (113.3350, 23.1130), (113.3350, 23.1290),
                              (113.3140, 23.1290)]), aliases=["珠江新城"]),
            _feature("gz-pati", "珠江琶醍", ["night_economy"], ["guangzhou"],
                     Point(113.3420, 23.1050), district="海珠区", precision=300.0,
                     status="approximate"),
            _feature("gz-nansha-port", "南沙港区", ["logistics_hub"], ["guangzhou"],
                     Polygon([(113.60, 22.68), (113.68, 22.68), (113.68, 22.76), (113.60, 22.76)]),
                     district="南沙区", schematic=True, status="approximate", precision=2000.0,
                     subtype="港区"),
            _feature("gz-baiyun-airport", "白云机场物流园", ["logistics_hub"], ["guangzhou"],
                     Point(113.3080, 23.3920), district="白云区", subtype="机场"),
            _feature("gz-chimelong", "长隆旅游度假区", ["scenic_area"], ["guangzhou"],
                     Point(113.3300, 23.0000), district="番禺区", precision=500.0,
                     status="approximate", subtype="度假区"),
            _feature("gz-yuexiu-park", "越秀公园", ["scenic_area"], ["guangzhou"],
                     Point(113.2680, 23.1400), district="越秀区", subtype="公园"),
            _feature("bh-yujiapu", "于家堡金融区商圈", ["commercial_district"], ["binhai"],
                     Point(117.7080, 39.0000), district="滨海新区"),
            _feature("bh-coldchain", "天津港保税区冷链物流基地", ["logistics_hub"], ["binhai"],
                     Point(117.7600, 39.0500), district="滨海新区", precision=800.0,
                     status="approximate"),
            _feature("bh-dongjiang", "东疆港区", ["logistics_hub"], ["binhai"],
                     Point(117.8200, 39.0300), district="滨海新区", subtype="港区"),
        ]
        self.features = {f.id: f for f in feats}
        self._mentions: list[Mention] = []
        for plan in self.plans.values():
            for c in plan.clauses:
                for f in feats:
                    for nm in sorted(f.names, key=len, reverse=True):
                        start = c.text.find(nm)
                        if start >= 0:
                            self._mentions.append(Mention(f.id, plan.id, c.id, start,
                                                          start + len(nm), c.lines[0], nm))
                            break

    # ---- the atlas API used by the desktop
    def features_for(self, plans=None, categories=None):
        out = []
        for f in self.features.values():
            if plans and not set(plans) & set(f.plans):
                continue
            if categories and not set(categories) & set(f.categories):
                continue
            out.append(f)
        return out

    def mentions(self, feature_id):
        return [m for m in self._mentions if m.feature == feature_id]

    def clauses_of(self, feature_id):
        seen = []
        for m in self.mentions(feature_id):
            c = self.clause(m.clause)
            if c not in seen:
                seen.append(c)
        return seen

    def targets_of(self, feature_id):
        cids = {c.id for c in self.clauses_of(feature_id)}
        f = self.features[feature_id]
        return [t for p in self.plans.values() for t in p.targets
                if t.clause in cids or t.scope in f.names]

    def features_of(self, clause_id):
        return list(dict.fromkeys(m.feature for m in self._mentions if m.clause == clause_id))

    def clause(self, clause_id):
        plan = self.plans[clause_id.split(":", 1)[0]]
        return plan.clause(clause_id)

    def target(self, target_id):
        plan = self.plans[target_id.split(":", 1)[0]]
        for t in plan.targets:
            if t.id == target_id:
                return t
        raise KeyError(target_id)

    def search(self, text):
        text = text.strip()
        out = []
        if not text:
            return out
        for f in self.features.values():
            if any(text in n for n in f.names):
                out.append({"type": "feature", "id": f.id, "plan": f.plans[0], "label": f.name,
                            "snippet": f.district})
        for p in self.plans.values():
            for c in p.clauses:
                pos = c.text.find(text)
                if pos >= 0:
                    out.append({"type": "clause", "id": c.id, "plan": p.id,
                                "label": f"{c.number}{c.heading}",
                                "snippet": c.text[max(0, pos - 10):pos + 20]})
        return out

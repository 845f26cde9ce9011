"""A small synthetic atlas for the export tests, built from :mod:`layers.model` records.

It implements the part of the ``layers.atlas`` API the exporters use (``plans``, ``features``,
``features_for``, ``mentions``, ``clauses_of``, ``targets_of``, ``clause``, ``target``,
``basemap``) over a handful of hand-made plans and places in Guangzhou and Tianjin, with
awkward names (markup, quotes, ampersands, template-literal syntax, formula-like text) so that
escaping is exercised by every export.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from planatlas.layers.model import Clause, Feature, Mention, Plan, Region, Target

EVIL_NAME = "<script>alert(1)</script>"
TRICKY_NAME = 'Tom & "Jerry" `${alert(2)}` 夜市'
FORMULA_NAME = "=HYPERLINK(\"x\",\"点我\")"


def _plan(pid: str, title: str, region: Region, lines: list[str]) -> Plan:
    return Plan(id=pid, title=title, issuer=f"{region.city}人民政府", issued="2021-07",
                period=(2021, 2025), region=region, file=f"seeds/{pid}.txt", encoding="utf-8",
                source_lines=lines)


def _clause(plan: Plan, path: str, number: str, heading: str, text: str, line: int,
            level: int = 3, parent: str | None = None) -> Clause:
    c = Clause(id=f"{plan.id}:{path}", plan=plan.id, number=number, heading=heading, text=text,
               parent=parent, level=level, lines=(line, line), kind="arabic")
    plan.clauses.append(c)
    return c


@dataclass
class SyntheticBasemap:
    districts: gpd.GeoDataFrame
    water: gpd.GeoDataFrame


class SyntheticAtlas:
    """Two plans (guangzhou, binhai), seven places, mentions and targets."""

    def __init__(self) -> None:
        gz = _plan("guangzhou", "广州市加快培育建设国际消费中心城市实施方案",
                   Region("广东省", "广州市", "", "440100"), [f"line {i}" for i in range(1, 200)])
        bh = _plan("binhai", "滨海新区促进消费实施方案",
                   Region("天津市", "天津市", "滨海新区", "120116"), [f"line {i}" for i in range(1, 80)])
        self.plans: dict[str, Plan] = {"guangzhou": gz, "binhai": bh}

        c1 = _clause(gz, "二.(二).5", "5.", "建设国际知名商圈",
                     "推动天河路商圈、北京路步行街提升，打造<script>alert(1)</script>示范区。"
                     "到2025年，天河路商圈销售额超过1000亿元。", 77)
        c2 = _clause(gz, "二.(三).2", "2.", "发展夜间经济",
                     "培育Tom & \"Jerry\" `${alert(2)}` 夜市等夜间经济集聚区，打造北京路步行街夜间消费地标。", 90)
        c3 = _clause(gz, "二.(四).1", "1.", "建设国际物流枢纽",
                     "提升南沙港区集装箱吞吐能力，建设=HYPERLINK(\"x\",\"点我\")冷链基地。"
                     "集装箱吞吐量达到2500万标准箱。", 120)
        c4 = _clause(bh, "三.(一).2", "2.", "建设港口物流枢纽",
                     "推进天津港集装箱码头建设，发展滨海新区航母主题公园文旅消费。", 40)
        self._clauses = {c.id: c for p in self.plans.values() for c in p.clauses}

        t1 = Target(id="guangzhou:t001", plan="guangzhou", clause=c1.id, indicator="天河路商圈销售额",
                    year=2025, comparator=">", value=1000.0, unit="亿元", scope="天河路商圈", line=77,
                    surface="天河路商圈销售额超过1000亿元")
        t2 = Target(id="guangzhou:t002", plan="guangzhou", clause=c3.id, indicator="集装箱吞吐量",
                    year=2025, comparator=">=", value=2500.0, unit="万标准箱", scope="全市", line=120,
                    surface="集装箱吞吐量达到2500万标准箱")
        gz.targets.extend([t1, t2])
        self._targets = {t.id: t for t in (t1, t2)}

        def feat(fid, name, cats, plans, district, geom, precision=50.0, status="approximate",
                 subtype="商圈", aliases=()):
            return Feature(id=fid, name=name, aliases=list(aliases), categories=list(cats),
                           subtype=subtype, tier=None, plans=list(plans), district=district,
                           adcode="440106", geometry=geom, precision_m=precision, source="synthetic test data",
                           status=status)

        tianhe = Polygon([(113.318, 23.131), (113.336, 23.131), (113.336, 23.140), (113.318, 23.140)])
        self.features: dict[str, Feature] = {f.id: f for f in [
            feat("gz-tianhe-road", "天河路商圈", ["commercial_district"], ["guangzhou"], "天河区", tianhe,
                 precision=200.0, status="verified", aliases=["天河路"]),
            feat("gz-beijing-road", "北京路步行街", ["commercial_district", "night_economy"], ["guangzhou"],
                 "越秀区", LineString([(113.2690, 23.1230), (113.2692, 23.1290)]), subtype="步行街"),
            feat("gz-evil", EVIL_NAME, ["commercial_district"], ["guangzhou"], "越秀区",
                 Point(113.2800, 23.1300)),
            feat("gz-tricky", TRICKY_NAME, ["night_economy"], ["guangzhou"], "海珠区",
                 Point(113.3200, 23.1000), subtype="夜市"),
            feat("gz-nansha-port", "南沙港区", ["logistics_hub"], ["guangzhou"], "南沙区",
                 MultiPolygon([box(113.60, 22.70, 113.66, 22.76), box(113.67, 22.64, 113.70, 22.68)]),
                 precision=500.0, subtype="港区"),
            feat("gz-formula", FORMULA_NAME, ["logistics_hub"], ["guangzhou"], "南沙区",
                 Point(113.55, 22.80), subtype="冷链基地"),
            feat("bh-tianjin-port", "天津港集装箱码头", ["logistics_hub"], ["binhai"], "滨海新区",
                 box(117.78, 38.97, 117.82, 39.00), precision=300.0, subtype="港区"),
            feat("bh-carrier-park", "滨海航母主题公园", ["scenic_area"], ["binhai"], "滨海新区",
                 Point(117.7280, 38.8290), status="verified", subtype="公园"),
        ]}

        def men(fid, clause, surface, line):
            start = max(clause.text.find(surface), 0)
            return Mention(feature=fid, plan=clause.plan, clause=clause.id, start=start,
                           end=start + len(surface), line=line, surface=surface)

        self._mentions: list[Mention] = [
            men("gz-tianhe-road", c1, "天河路商圈", 77),
            men("gz-beijing-road", c1, "北京路步行街", 77),
            men("gz-beijing-road", c2, "北京路步行街", 91),
            men("gz-evil", c1, EVIL_NAME, 77),
            men("gz-tricky", c2, 'Tom & "Jerry" `${alert(2)}` 夜市', 90),
            men("gz-nansha-port", c3, "南沙港区", 120),
            men("gz-formula", c3, "=HYPERLINK(\"x\",\"点我\")冷链基地", 120),
            men("bh-tianjin-port", c4, "天津港集装箱码头", 40),
            men("bh-carrier-park", c4, "航母主题公园", 40),
        ]

        districts = gpd.GeoDataFrame(
            {"name": ["越秀区", "天河区", "海珠区", "南沙区", "滨海新区"],
             "adcode": ["440104", "440106", "440105", "440115", "120116"]},
            geometry=[box(113.23, 23.10, 113.30, 23.16), box(113.30, 23.10, 113.40, 23.20),
                      box(113.25, 23.05, 113.40, 23.10), box(113.40, 22.55, 113.75, 22.90),
                      box(117.50, 38.70, 118.00, 39.20)],
            crs="EPSG:4326")
        water = gpd.GeoDataFrame(
            {"name": ["珠江", "渤海"]},
            geometry=[box(113.20, 23.095, 113.45, 23.105), box(117.85, 38.70, 118.10, 39.20)],
            crs="EPSG:4326")
        self.basemap = SyntheticBasemap(districts=districts, water=water)

    # --- the atlas API used by the exporters -------------------------------------------
    def features_for(self, plans=None, categories=None) -> list[Feature]:
        out = []
        for f in self.features.values():
            if plans is not None and not set(plans) & set(f.plans):
                continue
            if categories is not None and not set(categories) & set(f.categories):
                continue
            out.append(f)
        return out

    def mentions(self, feature_id: str) -> list[Mention]:
        return [m for m in self._mentions if m.feature == feature_id]

    def clauses_of(self, feature_id: str) -> list[Clause]:
        seen: dict[str, Clause] = {}
        for m in self.mentions(feature_id):
            seen.setdefault(m.clause, self._clauses[m.clause])
        return list(seen.values())

    def targets_of(self, feature_id: str) -> list[Target]:
        clause_ids = {c.id for c in self.clauses_of(feature_id)}
        return [t for t in self._targets.values() if t.clause in clause_ids]

    def features_of(self, clause_id: str) -> list[str]:
        return sorted({m.feature for m in self._mentions if m.clause == clause_id})

    def clause(self, clause_id: str) -> Clause:
        return self._clauses[clause_id]

    def target(self, target_id: str) -> Target:
        return self._targets[target_id]


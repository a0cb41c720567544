"""Agency names, titles, prose paragraphs and signatures of synthetic reports.

The prose restates some table numbers (全年共办理行政许可事项 333 件) as real reports do; a share
of documents states one of them wrongly. Every restated number is returned as a claim so the
truth records which sentence states which field, and whether it agrees with the table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

# (province-level prefix used in prose, city, [counties / districts / county-level cities]) — real places.
_PLACES: list[tuple[str, str, list[str]]] = [
    ("新疆维吾尔自治区", "伊犁哈萨克自治州", ["昭苏县", "伊宁县", "霍城县", "巩留县", "新源县", "特克斯县", "尼勒克县"]),
    ("湖南省", "湘潭市", ["湘乡市", "韶山市", "湘潭县", "雨湖区", "岳塘区"]),
    ("湖南省", "长沙市", ["浏阳市", "宁乡市", "长沙县", "望城区", "芙蓉区", "岳麓区"]),
    ("江苏省", "淮安市", ["洪泽区", "淮阴区", "清江浦区", "涟水县", "盱眙县", "金湖县"]),
    ("江苏省", "苏州市", ["昆山市", "常熟市", "张家港市", "太仓市", "吴江区", "相城区"]),
    ("浙江省", "温州市", ["瑞安市", "乐清市", "永嘉县", "平阳县", "苍南县", "文成县"]),
    ("浙江省", "金华市", ["义乌市", "东阳市", "永康市", "兰溪市", "浦江县", "武义县"]),
    ("广东省", "梅州市", ["梅县区", "兴宁市", "平远县", "蕉岭县", "大埔县", "丰顺县"]),
    ("广东省", "清远市", ["英德市", "连州市", "佛冈县", "阳山县", "清新区"]),
    ("四川省", "绵阳市", ["江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县"]),
    ("四川省", "南充市", ["阆中市", "南部县", "营山县", "蓬安县", "仪陇县", "西充县"]),
    ("河南省", "周口市", ["项城市", "扶沟县", "西华县", "商水县", "沈丘县", "郸城县", "太康县"]),
    ("河南省", "南阳市", ["邓州市", "南召县", "方城县", "西峡县", "镇平县", "内乡县", "淅川县"]),
    ("山东省", "临沂市", ["兰陵县", "郯城县", "沂水县", "费县", "平邑县", "莒南县", "蒙阴县"]),
    ("山东省", "潍坊市", ["青州市", "诸城市", "寿光市", "安丘市", "高密市", "昌乐县"]),
    ("河北省", "保定市", ["涿州市", "定州市", "安国市", "高碑店市", "涞水县", "阜平县", "易县"]),
    ("安徽省", "阜阳市", ["界首市", "临泉县", "太和县", "阜南县", "颍上县", "颍州区"]),
    ("江西省", "赣州市", ["瑞金市", "龙南市", "信丰县", "大余县", "上犹县", "崇义县", "兴国县"]),
    ("湖北省", "宜昌市", ["宜都市", "当阳市", "枝江市", "远安县", "兴山县", "秭归县"]),
    ("福建省", "泉州市", ["晋江市", "石狮市", "南安市", "惠安县", "安溪县", "永春县", "德化县"]),
    ("云南省", "大理白族自治州", ["大理市", "祥云县", "宾川县", "弥渡县", "永平县", "云龙县", "洱源县"]),
    ("贵州省", "遵义市", ["仁怀市", "赤水市", "桐梓县", "绥阳县", "正安县", "湄潭县", "余庆县"]),
    ("甘肃省", "天水市", ["秦安县", "甘谷县", "武山县", "清水县", "张家川回族自治县", "麦积区"]),
    ("陕西省", "宝鸡市", ["凤翔区", "岐山县", "扶风县", "眉县", "陇县", "千阳县", "麟游县"]),
    ("黑龙江省", "绥化市", ["安达市", "肇东市", "海伦市", "望奎县", "兰西县", "青冈县"]),
    ("吉林省", "延边朝鲜族自治州", ["延吉市", "图们市", "敦化市", "珲春市", "龙井市", "和龙市", "汪清县"]),
    ("内蒙古自治区", "赤峰市", ["宁城县", "林西县", "克什克腾旗", "翁牛特旗", "喀喇沁旗", "敖汉旗"]),
    ("广西壮族自治区", "桂林市", ["荔浦市", "阳朔县", "灵川县", "全州县", "兴安县", "永福县"]),
]
# Agency kinds with their prose self-reference and weight.
_AGENCIES: list[tuple[str, str, float]] = [
    ("人民政府", "本机关", 3.0),
    ("自然资源局", "我局", 1.5),
    ("公安局", "我局", 1.0),
    ("教育局", "我局", 1.0),
    ("卫生健康委员会", "我委", 1.0),
    ("财政局", "我局", 0.8),
    ("住房和城乡建设局", "我局", 0.8),
    ("交通运输局", "我局", 0.8),
    ("农业农村局", "我局", 0.8),
    ("市场监督管理局", "我局", 0.8),
    ("人力资源和社会保障局", "我局", 0.7),
    ("民政局", "我局", 0.6),
    ("司法局", "我局", 0.5),
    ("水利局", "我局", 0.5),
    ("应急管理局", "我局", 0.5),
    ("文化广电和旅游局", "我局", 0.5),
    ("医疗保障局", "我局", 0.4),
    ("统计局", "我局", 0.3),
    ("审计局", "我局", 0.3),
    ("发展和改革局", "我局", 0.5),
    ("退役军人事务局", "我局", 0.3),
    ("林业和草原局", "我局", 0.3),
    ("人民政府办公室", "我办", 0.5),
]
# Chinese numerals for dates written out (二〇二六年一月二十一日).
_CN_DIGITS = "〇一二三四五六七八九"


@dataclass(frozen=True)
class Agency:
    name: str  # full name as signed, e.g. 昭苏县自然资源局
    kind: str  # 自然资源局, 人民政府, ...
    place: str  # 昭苏县
    city: str  # 伊犁哈萨克自治州
    province: str
    self_ref: str  # 我局 / 本机关 / 我委


@dataclass
class Claim:
    text: str
    field: str
    stated: int | float
    value: int | float


@dataclass
class Prose:
    """The prose parts of a report, in order, and the numbers they state."""

    title_lines: list[str]
    intro: list[str]
    overview: list[tuple[str, list[str]]]  # (subheading, paragraphs) under 一、总体情况
    active_text: str | None
    apply_text: str | None
    appeal_text: str | None
    problems: list[str]
    other: list[str]
    signature: str
    date_text: str
    claims: list[Claim] = field(default_factory=list)


def draw_agency(rng: np.random.Generator) -> Agency:
    province, city, counties = _PLACES[int(rng.integers(len(_PLACES)))]
    kinds = [a for a in _AGENCIES]
    w = np.array([a[2] for a in kinds])
    kind, self_ref, _ = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]
    u = rng.random()
    if u < 0.78:
        place = counties[int(rng.integers(len(counties)))]
    elif u < 0.93:
        place = city
    else:
        # a township government: 镇/乡 under a county
        county = counties[int(rng.integers(len(counties)))]
        town = ["城关镇", "新华镇", "东风镇", "城南街道", "西湖乡", "青山镇", "长兴镇", "红星乡"][int(rng.integers(8))]
        return Agency(f"{county}{town}人民政府", "人民政府", county + town, city, province, "本机关")
    if kind == "人民政府" and place.endswith("区") and rng.random() < 0.4:
        # districts sign with the city prefix: 淮安市洪泽区人民政府
        place = city + place
    return Agency(f"{place}{kind}", kind, place, city, province, self_ref)


def published_date(year: int, rng: np.random.Generator) -> dt.date:
    """Signature date: January to March of the year after the report year."""
    start = dt.date(year + 1, 1, 5)
    return start + dt.timedelta(days=int(rng.integers(0, 80)))


def _cn_number(n: int) -> str:
    units = ["", "十", "二十", "三十"]
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return (units[tens] if tens > 1 else "十") + (_CN_DIGITS[ones] if ones else "")


def format_date(d: dt.date, rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.6:
        return f"{d.year}年{d.month}月{d.day}日"
    if u < 0.8:
        return f"{d.year} 年 {d.month} 月 {d.day} 日"
    if u < 0.92:
        return "".join(_CN_DIGITS[int(c)] for c in str(d.year)) + f"年{_cn_number(d.month)}月{_cn_number(d.day)}日"
    return f"{d.year}.{d.month:02d}.{d.day:02d}"


def number_text(x: int | float) -> str:
    """A number as the prose writes it: integers plain, amounts with up to 4 decimals."""
    if isinstance(x, float) and not x.is_integer():
        return f"{x:.4f}".rstrip("0").rstrip(".")
    return str(int(x))


def _num(x: int | float, rng: np.random.Generator, spaced: bool) -> str:
    s = number_text(x)
    return f" {s} " if spaced else s


def _wrong(x: int | float, rng: np.random.Generator) -> int | float:
    """A plausible wrong restatement of `x`."""
    if isinstance(x, float) and not float(x).is_integer():
        return round(x * float(rng.choice([0.1, 10, 1.1, 0.9])), 4)
    x = int(x)
    u = rng.random()
    if u < 0.4 and x >= 10:
        s = str(x)
        return int(s[::-1]) if s[::-1] != s and not s.endswith("0") else x + 1
    wrong = max(0, x + int(rng.choice([-2, -1, 1, 1, 2, 3])))
    return wrong if wrong != x else x + 1


# Boilerplate paragraphs of 一、总体情况 (the numbers come separately).
_MGMT = [
    "严格落实政府信息公开保密审查制度，坚持“先审查、后公开”和“一事一审”原则，明确审核主体和责任，确保公开信息准确规范。",
    "进一步规范政府信息公开属性源头认定，公文在拟制时即明确公开属性，对不予公开的说明理由，切实做到应公开尽公开。",
    "建立健全政府信息动态管理机制，定期对已公开的政府信息进行清理，对失效、废止的文件及时标注，确保信息内容时效性。",
    "加强政策文件集中统一管理，对现行有效的行政规范性文件进行全面梳理并集中公开，方便公众查阅。",
    "坚持“以公开为常态、不公开为例外”原则，严格执行信息发布审核机制，加强对敏感词汇和意识形态内容的把关。",
]
_PLATFORM = [
    "充分发挥政府门户网站作为政府信息公开第一平台的作用，优化栏目设置，及时更新信息内容。",
    "加强政务新媒体规范化管理，对账号开设、内容发布、安全保障等实行全流程管理，确保信息发布安全有序。",
    "依托政务服务中心设置政府信息公开查阅点，为群众提供现场查阅、咨询服务，进一步拓宽公开渠道。",
    "积极运用政务微信公众号、政务微博等新媒体平台，及时发布工作动态、通知公告和政策解读信息，扩大公开覆盖面和影响力。",
    "持续推进政府网站集约化建设，完善网站检索功能，提升信息查找的便捷性。",
]
_SUPERVISION = [
    "将政务公开工作纳入年度绩效考核，明确专人负责，强化工作责任落实。",
    "组织工作人员认真学习《中华人民共和国政府信息公开条例》，不断提升政府信息公开业务能力。",
    "自觉接受社会监督，畅通意见建议反映渠道，对群众反映的问题及时整改落实。本年度未发生政府信息公开责任追究情况。",
    "定期开展政务公开自查自纠，对发现的问题建立台账，逐项整改到位，切实提升公开实效。",
]
_ACTIVE_GENERIC = [
    "围绕重点领域信息公开，及时公开财政预决算、重大建设项目、公共资源配置、社会公益事业等信息。",
    "持续做好政策解读工作，坚持政策文件与解读材料同步组织、同步审签、同步部署，通过图文、简明问答等形式解读政策。",
    "积极回应社会关切，对涉及群众切身利益的热点问题及时发布权威信息，正确引导社会舆论。",
]
_APPLY_GENERIC = [
    "严格按照法定程序和时限办理政府信息公开申请，规范答复文书格式，做到依法答复、规范答复。",
    "进一步完善依申请公开受理、登记、审核、答复、归档等工作流程，确保申请件件有回音。",
]
_PROBLEMS = [
    "本年度政府信息公开工作取得了一定成效，但仍存在一些不足：一是政策解读形式还不够丰富；二是信息公开的主动性和及时性有待进一步提高；三是工作人员业务能力还需加强。",
    "下一步，{self}将从以下几个方面加以改进：一是加强业务培训，提升工作人员依法公开、规范公开的专业能力；二是聚焦群众关切，深化重点领域信息公开；三是强化监督检查，推动政务公开工作提质增效。",
    "对照上级要求和群众期盼，仍存在公开内容不够全面、更新不够及时、互动回应不够充分等问题。{next}年，{self}将进一步完善工作机制，持续提升政府信息公开工作水平。",
    "针对存在的问题，{self}将进一步加强组织领导，压实工作责任，完善公开内容，丰富公开形式，不断提高政府信息公开工作的质量和实效。",
]
_OTHER = [
    "本机关按照《国务院办公厅关于印发〈政府信息公开信息处理费管理办法〉的通知》（国办函〔2020〕109号）规定的按件、按量收费标准，本年度没有产生信息公开处理费。",
    "本年度{self}未收取信息处理费。",
    "{year}年，{self}认真落实上级政务公开工作要点，各项任务均已按要求完成。",
    "无其他需要报告的事项。",
]


def _statement(fid: str, v: dict, rng: np.random.Generator, wrong: bool, spaced: bool) -> Claim | None:
    """A clause restating field `fid` (or None when the field is not available)."""
    value = v.get(fid)
    if value is None:
        return None
    stated = _wrong(value, rng) if wrong else value
    n = _num(stated, rng, spaced)
    phrases = {
        "active.licensing.decisions": [f"全年共办理行政许可事项{n}件", f"本年度处理行政许可事项{n}件", f"作出行政许可决定{n}件"],
        "active.penalty.decisions": [f"行政处罚{n}件", f"作出行政处罚决定{n}件", f"办理行政处罚案件{n}件"],
        "active.coercion.decisions": [f"行政强制{n}件", f"实施行政强制措施{n}件"],
        "active.fees.amount": [f"收取行政事业性收费{n}万元", f"行政事业性收费{n}万元"],
        "active.normative.issued": [f"制发行政规范性文件{n}件", f"本年制发规范性文件{n}件"],
        "active.normative.in_force": [f"现行有效规范性文件{n}件", f"现行有效的行政规范性文件共{n}件"],
        "active.normative.made": [f"新制作规范性文件{n}件", f"本年新制作规范性文件{n}件"],
        "active.procurement.amount": [f"政府集中采购总金额{n}万元"],
        "apply.new_received.total": [f"全年共收到政府信息公开申请{n}件", f"本年度新收政府信息公开申请{n}件", f"受理政府信息公开申请{n}件"],
        "apply.carried_over.total": [f"上年结转{n}件", f"上年结转政府信息公开申请{n}件"],
        "apply.granted.total": [f"予以公开{n}件", f"其中予以公开{n}件"],
        "apply.partially_granted.total": [f"部分公开{n}件"],
        "apply.unavailable.not_held.total": [f"本机关不掌握相关政府信息{n}件"],
        "apply.carried_forward.total": [f"结转下年度继续办理{n}件"],
        "apply.total.total": [f"共办结政府信息公开申请{n}件", f"本年度办理完成{n}件"],
        "appeal.review.total": [f"发生政府信息公开行政复议案件{n}件", f"收到涉及政府信息公开的行政复议申请{n}件", f"信息公开行政复议{n}个"],
        "appeal.suit_direct.total": [f"未经复议直接起诉的行政诉讼{n}件", f"行政诉讼案件{n}件"],
        "appeal.suit_after_review.total": [f"复议后起诉的行政诉讼{n}件"],
        "appeal.review.corrected": [f"其中被纠错{n}件", f"结果纠正{n}件"],
    }
    text = str(rng.choice(phrases[fid]))
    return Claim(text=text, field=fid, stated=stated, value=value)


def draw_prose(
    agency: Agency,
    year: int,
    template_id: str,
    values: dict[str, int | float | None],
    published: dt.date,
    rng: np.random.Generator,
    stated_overrides: dict[str, int | float] | None = None,
) -> Prose:
    """Title, paragraphs and signature of a report, with the table numbers it restates.

    Args:
        values: field id → value (as printed, planted errors included).
        stated_overrides: field id → number the prose must state (seed reports' real misstatements).
    """
    sp = rng.random() < 0.35  # spaces around numbers in prose (333 件 vs 333件)
    wrong_doc = rng.random() < 0.10
    claims: list[Claim] = []
    self_ref = agency.self_ref

    def say(fid: str, wrong: bool = False) -> str | None:
        c = _statement(fid, values, rng, wrong, sp)
        if c is None:
            return None
        if stated_overrides and fid in stated_overrides:
            stated = stated_overrides[fid]
            c = Claim(text=c.text.replace(_num(c.stated, rng, sp), _num(stated, rng, sp)), field=fid, stated=stated, value=c.value)
        claims.append(c)
        return c.text

    # Decide which claim (if any) is wrong: the index among the claims made.
    wrong_at = int(rng.integers(0, 4)) if wrong_doc else -1
    counter = iter(range(100))

    def say_w(fid: str) -> str | None:
        return say(fid, wrong=next(counter) == wrong_at)

    # Title: 2025年政府信息公开工作年度报告 / 2025年度政府信息公开工作报告 / ...
    y = f"{year} " if rng.random() < 0.25 else f"{year}"
    u = rng.random()
    report = "年政府信息公开工作年度报告" if u < 0.6 else ("年度政府信息公开工作报告" if u < 0.9 else "年度政府信息公开工作年度报告")
    t2 = y + report
    title_lines = [agency.name, t2] if rng.random() < 0.45 else [f"{agency.name}{t2}"]

    intro = []
    if rng.random() < 0.8:
        intro.append(
            str(rng.choice([
                f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和国务院办公厅政府信息与政务公开办公室有关要求编制。全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议及行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
                f"为深入贯彻《中华人民共和国政府信息公开条例》要求，现将{self_ref}{year}年度政府信息公开工作年度报告如下：",
                f"根据《中华人民共和国政府信息公开条例》规定，特向社会公布{year}年度政府信息公开工作年度报告。",
            ]))
        )

    v = values
    # 一、总体情况
    active_bits = []
    lic = say_w("active.licensing.decisions")
    pen = say_w("active.penalty.decisions")
    if lic:
        active_bits.append(lic + ("、" + pen if pen else ""))
    if template_id == "gov-2021" and rng.random() < 0.5:
        extra = say_w("active.normative.issued")
        if extra:
            active_bits.append(extra)
    n_posts = int(np.exp(rng.normal(4.5, 1.2)))
    p_active = (
        f"{year}年，{self_ref}通过政府门户网站累计主动公开各类政府信息{n_posts}条，"
        + ("，".join(active_bits) + "，" if active_bits else "")
        + "相关信息均在规定时限内予以公示。"
        + "".join(str(s) for s in rng.choice(_ACTIVE_GENERIC, size=int(rng.integers(1, 3)), replace=False))
    )
    recv = say_w("apply.new_received.total")
    apply_bits = [recv] if recv else []
    if v.get("apply.carried_over.total") and rng.random() < 0.6:
        apply_bits.append(say_w("apply.carried_over.total"))
    if v.get("apply.granted.total") and rng.random() < 0.5:
        apply_bits.append(say_w("apply.granted.total"))
    if v.get("apply.carried_forward.total") and rng.random() < 0.5:
        apply_bits.append(say_w("apply.carried_forward.total"))
    p_apply = (
        f"{year}年，{self_ref}" + "，".join(b for b in apply_bits if b) + "，均已在法定期限内答复。"
        + str(rng.choice(_APPLY_GENERIC))
    )
    headings = [
        ("（一）主动公开情况", [p_active]),
        ("（二）依申请公开情况", [p_apply]),
        ("（三）政府信息管理情况", ["".join(rng.choice(_MGMT, size=int(rng.integers(2, 4)), replace=False))]),
        ("（四）政府信息公开平台建设情况", ["".join(rng.choice(_PLATFORM, size=int(rng.integers(2, 4)), replace=False))]),
        ("（五）监督保障情况", ["".join(rng.choice(_SUPERVISION, size=int(rng.integers(1, 3)), replace=False))]),
    ]
    if rng.random() < 0.3:
        headings = [(h.replace("（", "(").replace("）", ")"), p) for h, p in headings]

    # Sentences before the tables
    active_text = None
    if rng.random() < 0.4:
        bits = [b for b in (say_w("active.licensing.decisions") if not lic else None, say_w("active.coercion.decisions")) if b]
        if v.get("active.fees.amount") and rng.random() < 0.6:
            bits.append(say_w("active.fees.amount"))
        if bits:
            active_text = f"{year}年，{self_ref}" + "，".join(bits) + "。"
    apply_text = None
    if rng.random() < 0.35:
        t = say_w("apply.total.total")
        if t:
            apply_text = f"{year}年，{self_ref}{t}。"
    appeal_text = None
    if rng.random() < 0.5:
        r = say_w("appeal.review.total")
        s = say_w("appeal.suit_direct.total") if rng.random() < 0.5 else None
        appeal_text = f"{year}年，{self_ref}" + "，".join(b for b in (r, s) if b) + "。"
    if stated_overrides:
        # a seed's real misstatement goes into the sentence before the table it contradicts
        texts = {"active": active_text, "apply": apply_text, "appeal": appeal_text}
        for fid in stated_overrides:
            if not any(c.field == fid for c in claims):
                t = say(fid)
                if t:
                    sec = fid.split(".", 1)[0]
                    old = texts[sec]
                    texts[sec] = (old.rstrip("。") + "，" if old else f"{year}年，{self_ref}") + t + "。"
        active_text, apply_text, appeal_text = texts["active"], texts["apply"], texts["appeal"]

    fill = {"self": self_ref, "year": year, "next": year + 1}
    problems = [p.format(**fill) for p in rng.choice(_PROBLEMS, size=int(rng.integers(1, 3)), replace=False)]
    other = [str(rng.choice(_OTHER)).format(**fill)]
    return Prose(
        title_lines=title_lines,
        intro=intro,
        overview=headings,
        active_text=active_text,
        apply_text=apply_text,
        appeal_text=appeal_text,
        problems=problems,
        other=other,
        signature=agency.name,
        date_text=format_date(published, rng),
        claims=claims,
    )

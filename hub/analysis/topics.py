"""Topic hints per complaint category: vocabulary that says what a message is about, not how it feels."""
from __future__ import annotations

from hub.analysis.lexicon import compile_lexicon
from hub.analysis.text import fold

# Seed data is a few dozen lines per category; these lists carry the domain vocabulary the seed
# cannot cover, and the category model learns how far to trust them.
_TOPIC_TERMS: dict[str, tuple[str, ...]] = {
    "delivery": (
        r"deliver\w*", r"courier\w*", "parcels?", "packages?", r"shipp\w*", r"shipment\w*", "tracking",
        r"dispatch\w*", "driver", "rider", "in transit", "depot", r"arriv\w*",
        "wrong (?:item|size|colou?r)", r"missing (?:item|box|parcel)\w*", "postman",
        "where(?:'s| is) my (?:order|stuff|item|delivery)", "customs", "pick-?up point", "doorstep",
        "快递", "物流", "发货", "送货", "派送", "签收", "包裹", "配送", "外卖", "骑手", "送达", "到货",
        "运单", "中转", "快递员", "发错", "少发", "漏发", "送到", "没到", "海关", "上楼",
    ),
    "billing": (
        r"charg\w*", r"bill\w*", r"invoic\w*", "fees?", r"overcharg\w*", r"pric\w*", "payments?", "paid",
        r"debit\w*", "subscription", r"renew\w*", "coupon", "discount", "vat", "card statement",
        "transactions?", "balance", "deposit", "plan price", "annual", "monthly", "扣款", "扣费", "扣了",
        "扣钱", "账单", "发票", "费用", "收费", "价格", "多收", "付款", "续费", "优惠券", "话费", "余额",
        "年费", "月费", "手续费", "定金", "差价", "涨价", "交费", "缴费",
    ),
    "product_quality": (
        r"broke\w*", "faulty", r"defect\w*", "quality", "stopped working", r"leak\w*", r"crack\w*",
        r"snapp\w*", r"tear\w*", "ripped", "fell apart", "stale", "rotten", "expired", "rash", "fake",
        "counterfeit", r"dud\w*", r"smell\w*", "not as described", "cheap", "质量", "坏了", "破损",
        "做工", "假货", "漏水", "开胶", "掉色", "变质", "过期", "异味", "味道", "故障", "鼓包", "裂",
        "断了", "货不对板", "不新鲜", "正品", "瑕疵", "缩水", "生锈",
    ),
    "service_attitude": (
        r"rude\w*", "agents?", "staff", "reps?", "representative", "customer service", "support team",
        "hung up", "no (?:one|body) (?:replies|answers|called)", "no reply", r"ignor\w*", "attitude",
        "on hold", "call ?back", "transferred", "manager", "assistant", r"apolog\w*", "unprofessional",
        "态度", "客服", "店员", "服务员", "工作人员", "不理", "不回", "没人回", "挂电话", "敷衍", "推诿",
        "骂", "回电", "不耐烦", "店长", "冷漠", "已读", "人工",
    ),
    "refund": (
        r"refund\w*", "returns?", "returned", "money back", "store credit", "voucher", r"reimburs\w*",
        "restocking", "return label", "return window", "退款", "退货", "退钱", "退回", "退费", "代金券",
        "售后", "换货", "退运费", "驳回", "到账",
    ),
    "technical": (
        "app", "website", "site", "log ?in", "login", "password", "error", r"crash\w*", r"bug\w*",
        r"freez\w*", r"load\w*", "internet", "wi-?fi", "signal", "update", r"sync\w*", r"connect\w*",
        "verification code", "2fa", "browser", "server", "offline", r"buffer\w*", "page", "闪退", "登录",
        "登不上", "网站", "页面", "报错", "卡顿", "网络", "断网", "宽带", "信号", "验证码", "系统",
        "更新", "升级", "崩溃", "打不开", "同步", "白屏", "小程序", "账号", "密码", "链接",
    ),
    "other": (
        "marketing", "spam", r"unsubscrib\w*", "newsletter", "privacy", "my data",
        "personal (?:data|information)", "terms", "policy", "rules?", "opening hours", "loyalty",
        "points", "membership", "parking", "store was", "toilets?", "dirty", "filthy", "ads?",
        "promotional", "catalogue", "营销", "广告", "推销", "短信", "隐私", "个人信息", "条款", "规则",
        "政策", "营业时间", "积分", "会员", "停车", "卫生", "厕所", "脏", "问卷", "活动", "门店", "协议",
    ),
}


_COMPILED = {
    topic: compile_lexicon([t if not t.isascii() else "\\b" + t for t in terms], whole_words=True)
    for topic, terms in _TOPIC_TERMS.items()
}


def topic_hits(text: str) -> dict[str, int]:
    """Distinct topic terms found per category (categories with none are left out)."""
    folded = fold(text)
    hits: dict[str, int] = {}
    for topic, lexicon in _COMPILED.items():
        found = set(lexicon.all(folded))
        if found:
            hits[topic] = len(found)
    return hits

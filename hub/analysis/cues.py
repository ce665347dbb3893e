"""Explainable complaint cues: phrases an agent can see, and the severity they add up to."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from hub.analysis.lexicon import compile_lexicon
from hub.analysis.text import fold

Severity = Literal["low", "medium", "high"]


@dataclass(frozen=True, slots=True)
class Cue:
    """One matched signal: its kind (e.g. `threat_leave`) and the words that matched."""

    kind: str
    phrase: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.phrase}"


# Each kind is one alternation over folded text (NFKC + lower-case). English entries use \b;
# Chinese has no word boundaries, so its entries are plain substrings.
_LEXICON: dict[str, tuple[str, ...]] = {
    "legal": (
        r"\bsue\b", r"\bsuing\b", r"\blawyers?\b", r"\battorneys?\b", r"\blegal action\b",
        r"\bsmall claims\b", r"\bcourt\b", r"\blawsuit\b", "起诉", "律师", "法院", "打官司", "走法律程序",
        "法律途径",
    ),
    "regulator": (
        r"12315(?<!\d12315)(?!\d)", r"12345(?<!\d12345)(?!\d)", "消协", "消费者协会", "工商局",
        "市场监管", "黑猫投诉", "银保监", "消保委", "工信部", "监管部门", r"\btrading standards\b",
        r"\bombudsman\b", r"\bbbb\b", r"\bbetter business bureau\b", r"\bftc\b", r"\bcfpb\b",
        r"\bconsumer protection\b", r"\bregulator\b", r"\bdata protection (?:authority|office)\b",
        r"\bico\b", r"\bchargeback\b", r"\bdispute (?:it |the charge |this )?with my bank\b",
    ),
    "threat_leave": (
        r"\b(?:i'?m|i am|i'?ll|i will|going to|gonna) (?:cancel|close|leave|switch)\w*",
        r"\bcancel(?:l?ing)? (?:my|the) (?:account|subscription|membership|plan|contract)\b.{0,30}"
        r"(?:!|now|today|immediately)",
        r"\btake my (?:business|money) elsewhere\b",
        r"\bswitch(?:ing)? to (?:a )?(?:competitor|another)\b",
        r"\bnever (?:order|buy|shop|use)\w* (?:from |with )?(?:you|this|here|again)\b",
        r"\bdone with (?:you|this|your)\b", "再也不", "不会再买", "不会再用", "换一家", "换别家",
        "换平台", "销户", "注销账号", "注销账户", "我要退订", "取消会员", "卸载了", "拉黑", "最后一次",
    ),
    "public": (
        r"\b(?:one|1)[- ]star\b",
        r"\b(?:post|tweet|share|write)\w* (?:about )?(?:this|it)? ?(?:on|to) "
        r"(?:twitter|x|facebook|reddit|instagram|tiktok|trustpilot|social media)\b",
        r"\bbad review\b", r"\breview everywhere\b", r"\bthe press\b", r"\bjournalists?\b", "差评",
        "曝光", "发微博", "发到网上", "媒体", "小红书", "抖音上", "朋友圈",
    ),
    "profanity": (
        r"\bf+u+c+k\w*", r"\bwtf\b", r"\bshit\w*", r"\bbullshit\b", r"\bcrap\w*", r"\bdamn\w*",
        r"\bhell\b", r"\bidiots?\b", r"\bmorons?\b", r"\bstupid\b", r"\bjoke of a\b",
        "垃圾(?!邮件|短信|桶|分类|袋|箱)", "他妈", "妈的", "tmd", "坑爹", "傻逼", "sb客服", "脑残",
        "破玩意", "什么玩意", "什么破",
    ),
    "accusation": (
        r"\bscam\w*", r"\bfraud\w*", r"\bcheat\w*", r"\bstole\b", r"\bstealing\b", r"\brip[- ]?off\b",
        r"\bthie(?:f|ves)\b", "骗子", "骗人", "诈骗", "欺诈", "坑人", "忽悠", "黑店", "霸王条款",
    ),
    "repeat_contact": (
        r"\b(?:second|third|fourth|fifth|sixth|2nd|3rd|4th|5th|\d+th) time\b",
        r"\b(?:two|three|four|five|six|several|many|multiple|\d+) (?:times|emails|calls|messages)\b",
        r"\bhow many times\b",
        r"\balready (?:asked|told|contacted|called|emailed|written|sent|explained)\b",
        r"\basked (?:you )?(?:before|already|again)\b", r"\bkeep (?:asking|calling|emailing|chasing)\b",
        r"\bagain and again\b", r"\bstill (?:no|not|nothing|haven'?t|hasn'?t|waiting)\b",
        r"\byet again\b", r"第[二三四五六七八九十\d]+次", r"[两三四五六七八九十几\d]+次了", "好几次",
        "多次", "反复", "三番五次", "一直没", "还是没", "到现在还", "至今", "又来", "每次都",
        "问了.{0,4}遍",
    ),
    "waiting": (
        r"\b(?:waited|waiting|been)\b.{0,20}\b(?:\d+|two|three|four|five|six|several|many) "
        r"(?:days|weeks|months|hours)\b",
        r"\bfor (?:weeks|days|ages|months)\b", "等了.{0,6}[天周月时]",
        r"[\d一二两三四五六七八九十几半]+(?:天|周|个星期|个月|小时)了",
    ),
    "urgency": (
        r"\basap\b", r"\burgent\w*", r"\bimmediately\b", r"\bright now\b", r"\bright away\b",
        r"\bemergency\b", "马上", "立刻", "立即", "赶紧", "尽快", "急(?<!不急)(?<!不着急)", "火速",
    ),
    "negative_emotion": (
        r"\bdisappoint\w*", r"\bfrustrat\w*", r"\bangry\b", r"\bfurious\b", r"\bunacceptable\b",
        r"\bridiculous\b", r"\bterrible\b", r"\bawful\b", r"\bhorrible\b", r"\bworst\b", r"\bdisgust\w*",
        r"\bfed up\b", r"\bsick of\b", r"\bappall\w*", r"\boutrag\w*", r"\bunbelievable\b",
        r"\bpathetic\b", r"\buseless\b", r"\bunfair\b", r"\babusive\b", r"\bnot (?:fair|ok|okay|cool)\b",
        r"\bhopeless\b", r"\bupset\b", r"\bnot happy\b", r"\bnot acceptable\b", r"\bshocking\b",
        r"\bincompetent\w*", r"\bannoy\w*", "失望", "生气", "气死", "太差", "很差", "极差", "无语",
        "恶心", "离谱", "过分", "不满", "忍无可忍", "受不了", "太坑",
        "😡", "🤬", "😤", "👎", "💢", "😠", "不公平", "不合理", "恶劣", "差劲",
        "真差", "好差", "质量差", "心累", "崩溃", "郁闷", "糟糕", "太烂", "不靠谱", "敷衍", "不像话",
    ),
    "complaint_intent": (
        r"\b(?:make|file|lodge|raise|register|submit|log) (?:a |my |this as a )?(?:formal )?complaint\b",
        r"\b(?:want|would like|wish|need) to complain\b", "我要投诉", "我想投诉", "要投诉", "我要申诉",
        "登记投诉",
    ),
    "complaint_word": (
        r"\bcomplain\w*", r"\bescalat\w*", r"\b(?:speak|talk) to (?:a|your|the) (?:manager|supervisor)\b",
        "投诉", "申诉", "找你们领导", "找你们经理", "叫你们经理",
    ),
    "problem": (
        r"\bbroke(?:n)?\b", r"\bstopped working\b",
        r"\b(?:does ?n[o']?t|did ?n[o']?t|wo ?n[o']?t|not) "
        r"(?:work|load|open|arrive|turn up|show up|come|charge)\w*",
        r"\bnever (?:arrived|came|received|got|turned up|showed up|replied|called)\b",
        r"\bnot (?:received|delivered)\b", r"\bmissing\b",
        r"\bwrong (?:item|size|colou?r|order|address|amount|price|house)\b",
        r"\b(?:charged|billed|paid) (?:twice|two times|double)\b", r"\bdouble[- ]charged\b",
        r"\bovercharg\w*", r"\bfaulty\b", r"\bdefective\b", r"\bdamaged\b", r"\bcrash\w*", r"\bleak\w*",
        r"\b(?:can'?t|cannot|unable to) (?:log ?in|sign in|access|pay|connect|reach)\b",
        r"\blocked out\b", r"\berror\b",
        r"\bno (?:reply|response|answer|refund|signal|internet|one|body) ?\w*", r"\bnobody\b",
        r"\bignor\w*", r"\bhung up\b", r"\brude\w*", r"\brefus\w*", r"\bden(?:ied|y)\b", r"\blost\b",
        r"\bstolen\b", r"\bdisappeared\b", r"\bcold\b", r"\bstale\b", r"\brotten\b", r"\bexpired\b",
        r"\bdirty\b", r"\bfilthy\b", r"\bwithout (?:any )?(?:notice|warning|asking|permission)\b", "坏了",
        "摔坏", "没收到", "没到", "未收到", "发错", "少发", "漏发", "寄错", "送错", "丢了", "丢件",
        "破损", "碎了", "扣了两次", "重复扣", "多扣", "多收", "乱扣", "扣费", "没退", "不退", "不给退",
        "拒绝", "驳回", "闪退", "登不上", "打不开", "报错", "卡顿", "断网", "没信号", "收不到", "失败",
        "没人", "不回", "不理", "挂电话", "漏水", "变质", "过期", "发霉", "开胶", "掉色", "缩水", "鼓包",
        "异味", "怪味", "假货", "货不对板", "不一样", "不符", "故障", "没用", "没反应", "黑屏", "崩溃",
        "白屏", "迟到", "延迟", "晚到", "没来", "不发货", "还没发货", "脏", "没通知", "不通知", "断了",
        "没同意", r"\bsnapped\b", r"\bpoor quality\b", r"\bnot what i (?:paid|ordered|asked) for\b",
    ),
    "indignation": (
        r"\bwhy on earth\b", r"\bwhy (?:do|should|would|must|did) (?:i|we) (?:have to|need to|pay|be)\b",
        r"\bhow (?:is|was|can) (?:that|this|it) (?:be )?(?:fair|ok|okay|acceptable|possible|legal)\b",
        r"\bhow did (?:you|u) get my\b", r"\bseriously\?", r"\bare you (?:kidding|serious|joking)\b",
        r"\bwhat (?:is|'s) going on\b", r"\bwho is responsible\b", r"\bno thanks\b", "凭什么", "有必要吗",
        "什么情况", "怎么回事", "搞什么", "谁负责", "还要我", "到底", "难道", "开什么玩笑", "怎么有我",
        "讲不讲理", "有没有搞错",
    ),
    "sarcasm": (
        r"\b(?:oh )?(?:great|brilliant|wonderful|fantastic|amazing|lovely|perfect|nice),? "
        r"(?:another|again|just what)\b",
        r"\bthanks for nothing\b", r"\bsurprise,? surprise\b", r"\bwhat a (?:joke|surprise)\b",
        r"\bmy foot\b", r"\bwell done\b.{0,30}\bagain\b", "呵呵", "真行", "谢谢你们了", "真是服了",
        "服了", "厉害了你们", "真好啊", "真高啊", "果然",
    ),
    "disclaimer": (
        r"\b(?:not|isn'?t|is not) (?:a|making a|filing a) complaint\b", r"\bno complaints?\b",
        r"\bjust (?:asking|wondering|curious|checking)\b", r"\bquick question\b",
        r"\bno (?:rush|hurry|stress)\b", r"\bnot complaining\b",
        r"\bnot (?:asking for|wanting) a refund\b", r"\b(?:my|our) (?:mistake|fault|bad)\b", "不是投诉",
        "不是要投诉", "不是要退", "不是要换", "只是问一下", "只是想问", "随便问问", "不急",
        "没(?:有|什么)?(?:要|好)?投诉", "咨询一下", "想咨询",
    ),
}

# Kinds that already make a complaint serious on their own.
_HIGH_KINDS = frozenset({"legal", "regulator", "threat_leave"})
# Points towards severity; the documented table lives in docs/complaints.md.
SEVERITY_POINTS: dict[str, int] = {
    "legal": 3,
    "regulator": 3,
    "threat_leave": 3,
    "public": 2,
    "profanity": 2,
    "accusation": 2,
    "repeat_contact": 1,
    "waiting": 1,
    "urgency": 1,
    "all_caps": 1,
    "exclamation": 1,
}
HIGH_AT = 3

_COMPILED = {kind: compile_lexicon(entries) for kind, entries in _LEXICON.items()}
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
_LETTERS = re.compile(r"[A-Za-z]")
_UPPER = re.compile(r"[A-Z]")
_SHOUT = re.compile(r"[!?]{2,}")


def _all_caps(text: str) -> str | None:
    """The shouted words when most of a message's letters are capitals."""
    letters = len(_LETTERS.findall(text))
    caps_words = _CAPS_WORD.findall(text)
    if letters >= 12 and len(caps_words) >= 3 and len(_UPPER.findall(text)) / letters > 0.6:
        return " ".join(caps_words[:4])
    return None


def find_cues(text: str, *, prior_contacts: int = 0) -> list[Cue]:
    """Every cue in a message, in a stable kind order; one phrase per kind, the first that matched."""
    folded = fold(text)
    found: list[Cue] = []
    for kind, lexicon in _COMPILED.items():
        phrase = lexicon.first(folded)
        if phrase:
            found.append(Cue(kind, phrase.strip()))
    if prior_contacts >= 2 and not any(c.kind == "repeat_contact" for c in found):
        found.append(Cue("repeat_contact", f"{prior_contacts} earlier contacts"))
    shouted = _all_caps(text)
    if shouted:
        found.append(Cue("all_caps", shouted))
    shout = _SHOUT.search(folded)
    if shout:
        found.append(Cue("exclamation", shout.group(0)))
    return found


def severity(cues: Iterable[Cue]) -> Severity:
    """How serious a complaint is, from its cues: any legal/regulator/leave threat, or 3+ points, is high."""
    kinds = {c.kind for c in cues}
    if kinds & _HIGH_KINDS:
        return "high"
    points = sum(SEVERITY_POINTS.get(k, 0) for k in kinds)
    if points >= HIGH_AT:
        return "high"
    return "medium" if points >= 1 else "low"

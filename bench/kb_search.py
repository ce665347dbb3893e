"""Knowledge-base search benchmark: build time, query latency and memory over generated articles.

Run: python -m bench.kb_search [--articles 10000] [--queries 500] [--edits 200] [--seed 7]
     [--no-trace]
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from knowledge_base.article import Article, Language, check_article
from knowledge_base.search import SearchIndex
from knowledge_base.segmenter import segmenter


@dataclass(frozen=True, slots=True)
class Topic:
    """A support subject with the words customers and writers use for it in both languages."""

    slug: str
    en_title: str
    zh_title: str
    en_words: tuple[str, ...]
    zh_words: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic("refund", "refund", "退款",
          ("refund", "money back", "reimbursement", "original payment"),
          ("退款", "原路退回", "退款申请", "到账")),
    Topic("return", "return an item", "退货",
          ("return", "return label", "parcel", "warehouse"),
          ("退货", "寄回", "退货地址", "快递单号")),
    Topic("exchange", "exchange a product", "换货",
          ("exchange", "size", "colour", "replacement"),
          ("换货", "尺码", "颜色", "更换")),
    Topic("shipping", "shipping times", "配送时效",
          ("shipping", "courier", "tracking number", "dispatch"),
          ("配送", "快递", "物流", "发货")),
    Topic("delay", "delayed deliveries", "物流延迟",
          ("delay", "late delivery", "weather", "backlog"),
          ("延迟", "还没到", "催件", "物流停滞")),
    Topic("password", "reset your password", "重置密码",
          ("password", "reset link", "login", "sign in"),
          ("密码", "重置", "登录", "找回密码")),
    Topic("account", "manage your account", "账户管理",
          ("account", "profile", "username", "email address"),
          ("账户", "账号", "个人资料", "昵称")),
    Topic("two-factor", "two-factor authentication", "两步验证",
          ("verification code", "authenticator", "sms code", "security"),
          ("验证码", "两步验证", "短信", "安全")),
    Topic("invoice", "invoices and receipts", "发票",
          ("invoice", "receipt", "tax number", "company name"),
          ("发票", "电子发票", "税号", "抬头")),
    Topic("subscription", "subscription plans", "会员订阅",
          ("subscription", "plan", "renewal", "billing cycle"),
          ("订阅", "会员", "自动续费", "套餐")),
    Topic("cancel", "cancel an order", "取消订单",
          ("cancel", "cancellation", "order status", "pending"),
          ("取消订单", "待发货", "订单状态", "撤销")),
    Topic("payment", "payment methods", "支付方式",
          ("payment", "credit card", "paypal", "bank transfer"),
          ("支付", "微信支付", "支付宝", "银行卡")),
    Topic("coupon", "coupons and discounts", "优惠券",
          ("coupon", "discount code", "promotion", "voucher"),
          ("优惠券", "折扣", "满减", "促销")),
    Topic("warranty", "warranty and repairs", "保修",
          ("warranty", "repair", "defect", "service centre"),
          ("保修", "维修", "故障", "售后")),
    Topic("address", "change your delivery address", "修改收货地址",
          ("address", "postcode", "apartment", "recipient"),
          ("收货地址", "邮编", "收件人", "修改地址")),
    Topic("points", "reward points", "积分",
          ("points", "rewards", "loyalty", "redeem"),
          ("积分", "兑换", "等级", "权益")),
    Topic("gift-card", "gift cards", "礼品卡",
          ("gift card", "balance", "activation", "expiry"),
          ("礼品卡", "余额", "激活", "有效期")),
    Topic("app", "app troubleshooting", "App 故障",
          ("app", "crash", "update", "cache"),
          ("闪退", "更新", "缓存", "卡顿")),
    Topic("notifications", "notification settings", "消息通知",
          ("notification", "push", "email alerts", "unsubscribe"),
          ("通知", "推送", "消息提醒", "退订")),
    Topic("privacy", "privacy and your data", "隐私与数据",
          ("privacy", "personal data", "export", "delete account"),
          ("隐私", "个人信息", "数据导出", "注销账号")),
    Topic("damaged", "damaged items", "商品破损",
          ("damaged", "broken", "photo", "claim"),
          ("破损", "损坏", "拍照", "理赔")),
    Topic("customs", "customs and duties", "海关与关税",
          ("customs", "duties", "import tax", "declaration"),
          ("海关", "关税", "清关", "申报")),
    Topic("stock", "out of stock items", "缺货与补货",
          ("stock", "restock", "waitlist", "availability"),
          ("缺货", "补货", "到货通知", "库存")),
    Topic("contact", "contact customer support", "联系客服",
          ("support", "live chat", "phone", "opening hours"),
          ("客服", "在线客服", "电话", "工作时间")),
)

EN_FILLER = (
    "order", "customer", "website", "mobile app", "checkout", "button", "page", "menu", "settings",
    "confirmation email", "business days", "hours", "team", "request", "form", "details", "message",
    "screen", "store", "product", "item", "delivery", "account page", "history", "status", "window",
    "policy", "fee", "amount", "bank", "card", "week", "month", "weekend", "holiday", "region",
)
EN_VERBS = (
    "open", "check", "select", "tap", "enter", "confirm", "update", "contact", "review", "submit",
    "choose", "wait for", "receive", "download", "upload", "attach", "verify", "track", "keep",
)
ZH_FILLER = (
    "订单", "客户", "官网", "手机", "结算", "按钮", "页面", "菜单", "设置", "确认邮件", "工作日",
    "小时", "团队", "申请", "表单", "详情", "消息", "屏幕", "门店", "商品", "包裹", "我的账户",
    "记录", "状态", "规则", "费用", "金额", "银行", "周末", "节假日", "地区", "系统", "流程",
)
ZH_VERBS = (
    "打开", "查看", "选择", "点击", "输入", "确认", "更新", "联系", "审核", "提交", "等待", "收到",
    "下载", "上传", "核实", "跟踪", "保存", "填写", "处理",
)
EN_PRODUCTS = (
    "wireless earbuds", "smart watch", "air purifier", "rice cooker", "robot vacuum", "e-reader",
    "phone case", "power bank", "standing desk", "coffee grinder", "baby stroller", "yoga mat",
    "electric toothbrush", "gaming mouse", "hiking backpack", "water filter", "desk lamp",
    "bluetooth speaker", "hair dryer", "running shoes", "office chair", "tablet stand",
)
ZH_PRODUCTS = (
    "蓝牙耳机", "智能手表", "空气净化器", "电饭煲", "扫地机器人", "电子书阅读器", "手机壳",
    "充电宝", "升降桌", "咖啡研磨机", "婴儿推车", "瑜伽垫", "电动牙刷", "游戏鼠标",
    "登山包", "净水器", "台灯", "蓝牙音箱", "吹风机", "跑步鞋", "办公椅", "平板支架",
)
EN_CITIES = (
    "Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Chengdu", "Hangzhou", "Singapore", "London",
    "Berlin", "Toronto", "Sydney", "Dubai", "Tokyo", "Seoul", "Madrid", "Chicago",
)
ZH_CITIES = (
    "上海", "北京", "深圳", "广州", "成都", "杭州", "南京", "武汉", "西安", "重庆", "苏州", "天津",
    "长沙", "郑州", "青岛", "厦门",
)
EN_TEMPLATES = (
    "To {verb} your {topic}, {verb2} the {filler} and {verb3} the {filler2}.",
    "Most {topic} requests are handled within {n} {filler} after we {verb} your {filler2}.",
    "If the {topic} does not show up, {verb} the {filler} again or {verb2} our {filler2}.",
    "You can {verb} the {topic} from the {filler} at any time.",
    "We {verb} every {topic} manually, so please {verb2} the {filler} first.",
    "A {topic} may take longer during a {filler}, especially in a busy {filler2}.",
    "Please {verb} the {filler} before you {verb2} a new {topic}.",
    "Once you {verb} the {topic}, you will {verb2} a {filler} with the {filler2}.",
    "For the {product} (model {code}) shipped to {city}, {verb} the {topic} in the {filler}.",
)
ZH_TEMPLATES = (
    "如需{topic}，请先{verb}{filler}，然后{verb2}{filler2}。",
    "大部分{topic}会在{n}个{filler}内完成，我们会{verb}您的{filler2}。",
    "如果{topic}没有显示，请重新{verb}{filler}或{verb2}{filler2}。",
    "您可以随时在{filler}中{verb}{topic}。",
    "每一笔{topic}都由人工{verb}，请先{verb2}{filler}。",
    "在{filler}期间，{topic}可能需要更长时间，{filler2}繁忙时尤其如此。",
    "{verb}{filler}之后，系统会自动{verb2}{topic}相关的{filler2}。",
    "{topic}完成后，您会{verb}一条关于{filler}的{filler2}。",
    "发往{city}的{product}（型号{code}）如需{topic}，请{verb}{filler}。",
)
EN_QUESTIONS = (
    "how do I {verb} my {topic}", "{topic} not working", "where is my {topic}", "{topic} {filler}",
    "can I {verb} the {topic}", "{topic}", "{product} {topic} {city}",
)
ZH_QUESTIONS = (
    "怎么{verb}{topic}", "{topic}失败", "{topic}多久{verb}", "{topic}{filler}", "{topic}",
    "我的{topic}在哪里", "{city}{product}{topic}",
)


def generate_articles(count: int, seed: int = 7) -> list[Article]:
    """Realistic-looking published help articles, about half Chinese and half English."""
    rng = random.Random(seed)
    when = datetime(2025, 1, 1, tzinfo=UTC)
    articles = []
    for number in range(1, count + 1):
        topic = rng.choice(TOPICS)
        language: Language = "zh" if rng.random() < 0.5 else "en"
        write = _zh_article if language == "zh" else _en_article
        title, body = write(rng, topic)
        tags = (topic.zh_title if language == "zh" else topic.slug,)
        article = Article(number, f"{topic.slug}-{number}", title, body, language, tags,
                          "published", 1, when)
        articles.append(check_article(article))
    return articles


def generate_queries(count: int, language: Language, seed: int = 11) -> list[str]:
    """Customer questions in one language about the generated topics."""
    rng = random.Random(seed)
    queries = []
    template: Sequence[str]
    words: Sequence[str]
    filler: Sequence[str]
    verbs: Sequence[str]
    products: Sequence[str]
    cities: Sequence[str]
    for _ in range(count):
        topic = rng.choice(TOPICS)
        if language == "zh":
            template, words, filler, verbs = ZH_QUESTIONS, topic.zh_words, ZH_FILLER, ZH_VERBS
            products, cities = ZH_PRODUCTS, ZH_CITIES
        else:
            template, words, filler, verbs = EN_QUESTIONS, topic.en_words, EN_FILLER, EN_VERBS
            products, cities = EN_PRODUCTS, EN_CITIES
        queries.append(rng.choice(template).format(
            topic=rng.choice(words), filler=rng.choice(filler), verb=rng.choice(verbs),
            product=rng.choice(products), city=rng.choice(cities)))
    return queries


def _en_article(rng: random.Random, topic: Topic) -> tuple[str, str]:
    """Title and Markdown body of an English article."""
    title = f"{rng.choice(('How to', 'FAQ:', 'Guide:', 'Help with'))} {topic.en_title}"
    sections = []
    for _ in range(rng.randint(1, 3)):
        heading = f"## {rng.choice(EN_VERBS).capitalize()} the {rng.choice(topic.en_words)}"
        paragraph = " ".join(_sentence(rng, EN_TEMPLATES, topic.en_words, EN_FILLER, EN_VERBS,
                                       EN_PRODUCTS, EN_CITIES)
                             for _ in range(rng.randint(2, 5)))
        steps = "\n".join(
            f"{i}. {rng.choice(EN_VERBS).capitalize()} **{rng.choice(EN_FILLER)}**."
            for i in range(1, rng.randint(2, 5)))
        sections.append(f"{heading}\n\n{paragraph}\n\n{steps}")
    link = f"See [{rng.choice(topic.en_words)}](https://help.example.com/{topic.slug}) for more."
    return title, "\n\n".join([*sections, link])


def _zh_article(rng: random.Random, topic: Topic) -> tuple[str, str]:
    """Title and Markdown body of a Chinese article."""
    title = f"{rng.choice(('如何办理', '常见问题：', '关于', '帮助：'))}{topic.zh_title}"
    sections = []
    for _ in range(rng.randint(1, 3)):
        heading = f"## {rng.choice(ZH_VERBS)}{rng.choice(topic.zh_words)}"
        paragraph = "".join(_sentence(rng, ZH_TEMPLATES, topic.zh_words, ZH_FILLER, ZH_VERBS,
                                      ZH_PRODUCTS, ZH_CITIES)
                            for _ in range(rng.randint(2, 5)))
        steps = "\n".join(f"{i}. {rng.choice(ZH_VERBS)}**{rng.choice(ZH_FILLER)}**。"
                          for i in range(1, rng.randint(2, 5)))
        sections.append(f"{heading}\n\n{paragraph}\n\n{steps}")
    link = f"更多信息请参阅[{rng.choice(topic.zh_words)}](https://help.example.com/{topic.slug})。"
    return title, "\n\n".join([*sections, link])


def _sentence(rng: random.Random, templates: Sequence[str], words: Sequence[str],
              filler: Sequence[str], verbs: Sequence[str], products: Sequence[str],
              cities: Sequence[str]) -> str:
    """One filled-in sentence template."""
    # Model codes give the vocabulary the long tail of rare terms real help centres have.
    letters = "ABCDEFGHKMNPRSTXZ"
    code = f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(100, 9999)}"
    return rng.choice(templates).format(
        topic=rng.choice(words), filler=rng.choice(filler), filler2=rng.choice(filler),
        verb=rng.choice(verbs), verb2=rng.choice(verbs), verb3=rng.choice(verbs),
        n=rng.randint(1, 14), product=rng.choice(products), city=rng.choice(cities), code=code)


def _rss_bytes() -> int:
    """Resident memory of this process."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _percentiles(samples_ns: Sequence[int]) -> tuple[float, float, float]:
    """p50, p99 and max in milliseconds."""
    ordered = sorted(samples_ns)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) / 1e6, p99 / 1e6, ordered[-1] / 1e6


def _time_each(call: Callable[[str], object], inputs: Sequence[str]) -> tuple[list[int], list[int]]:
    """Wall-clock and CPU nanoseconds each call took (CPU shows the cost without other load)."""
    wall, cpu = [], []
    for value in inputs:
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        call(value)
        cpu.append(time.thread_time_ns() - start_cpu)
        wall.append(time.perf_counter_ns() - start)
    return wall, cpu


def _latency_line(label: str, wall: Sequence[int], cpu: Sequence[int]) -> str:
    """One aligned line of wall-clock and CPU percentiles."""
    p50, p99, worst = _percentiles(wall)
    cpu50, cpu99, _ = _percentiles(cpu)
    return (f"{label:<30} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {worst:6.2f} ms   "
            f"(CPU p50 {cpu50:5.2f}  p99 {cpu99:5.2f} ms)")


def main(argv: Sequence[str] | None = None) -> None:
    """Print build time, query latency per language and memory for a generated corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the second, traced build that measures retained memory")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    segmenter()
    print(f"{'jieba dictionary load':<30} {time.perf_counter() - start:8.2f} s")

    articles = generate_articles(args.articles, args.seed)
    chars = sum(len(a.body_markdown) for a in articles)
    zh = sum(a.language == "zh" for a in articles)
    print(f"{'articles':<30} {len(articles):8d}  ({zh} zh, {len(articles) - zh} en, "
          f"{chars / len(articles):.0f} chars of Markdown each on average)")

    gc.collect()
    before = _rss_bytes()
    start, start_cpu = time.perf_counter(), time.process_time()
    index = SearchIndex.build(articles)
    print(f"{'build':<30} {time.perf_counter() - start:8.2f} s wall, "
          f"{time.process_time() - start_cpu:.2f} s CPU")
    gc.collect()
    stats = index.stats()
    print(f"{'memory: RSS growth':<30} {(_rss_bytes() - before) / 2**20:8.1f} MiB  "
          f"(numpy arrays {stats.array_bytes / 2**20:.1f} MiB, {stats.terms} terms, "
          f"{stats.postings} postings)")
    if not args.no_trace:
        del index
        gc.collect()
        tracemalloc.start()
        index = SearchIndex.build(articles)
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{'memory: retained by index':<30} {retained / 2**20:8.1f} MiB  "
              f"(peak while building {peak / 2**20:.1f} MiB)")

    languages: tuple[Language, ...] = ("zh", "en")
    for language in languages:
        queries = generate_queries(args.queries, language, args.seed)
        index.search(queries[0])  # the first query after a change computes the length norms
        print(_latency_line(f"query {language}, all languages",
                            *_time_each(index.search, queries)))
        print(_latency_line(f"query {language}, {language} only",
                            *_time_each(partial(index.search, language=language), queries)))

    rng = random.Random(args.seed)
    current = {article.id: article for article in articles}
    wall, cpu = [], []
    for changed in _edits(rng, current, args.edits):
        start_ns, start_cpu_ns = time.perf_counter_ns(), time.thread_time_ns()
        index.upsert(changed)
        cpu.append(time.thread_time_ns() - start_cpu_ns)
        wall.append(time.perf_counter_ns() - start_ns)
    print(_latency_line("upsert one article", wall, cpu))
    start = time.perf_counter()
    index.compact()
    print(f"{'compact':<30} {(time.perf_counter() - start) * 1000:8.1f} ms")

    # Storage moved on by another batch of edits that the live index has not seen.
    unseen = {changed.id for changed in _edits(rng, current, args.edits)}
    start, start_cpu = time.perf_counter(), time.process_time()
    SearchIndex.build(current.values(), previous=index)
    print(f"{f'rebuild, {len(unseen)} changed':<30} {time.perf_counter() - start:8.2f} s wall, "
          f"{time.process_time() - start_cpu:.2f} s CPU  (reusing the live index)")


def _edits(rng: random.Random, current: dict[int | None, Article], count: int) -> list[Article]:
    """New versions of randomly chosen articles, recorded in `current` as storage would."""
    changed = []
    for _ in range(count):
        article = current[rng.randint(1, len(current))]
        edited = replace(article, body_markdown=article.body_markdown + "\n\nUpdated.",
                         version=article.version + 1)
        current[article.id] = edited
        changed.append(edited)
    return changed


if __name__ == "__main__":
    main()

"""The public help center's HTML, in Chinese and English; every value is escaped here (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from markdown_it import MarkdownIt

from knowledge_base.article import Article, Language
from knowledge_base.search import SearchHit
from knowledge_base.snippet import Snippet
from knowledge_base.store import help_path

# Raw HTML in an article is shown as text, never passed through; markdown-it also refuses
# javascript:, vbscript:, file: and non-image data: links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")

# Pages hold no script at all; inline styles only, images from anywhere over HTTPS.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)

TEXT: dict[Language, dict[str, str]] = {
    "zh": {
        "help_center": "帮助中心",
        "search_placeholder": "搜索帮助文章…",
        "search": "搜索",
        "all_articles": "全部文章",
        "results_for": "“{q}” 的搜索结果",
        "no_results": "没有找到相关文章，换个说法试试，或者联系在线客服。",
        "other_languages": "其他语言的结果",
        "updated": "更新于",
        "not_found": "找不到这篇文章",
        "not_found_text": "文章可能已被移动或下线。",
        "back": "返回帮助中心",
        "switch": "English",
        "previous": "上一页",
        "next": "下一页",
        "empty": "还没有发布的文章。",
        "tagged": "标签：{tag}",
    },
    "en": {
        "help_center": "Help Center",
        "search_placeholder": "Search help articles…",
        "search": "Search",
        "all_articles": "All articles",
        "results_for": "Results for “{q}”",
        "no_results": "No articles found. Try other words, or chat with us.",
        "other_languages": "Results in other languages",
        "updated": "Updated",
        "not_found": "Article not found",
        "not_found_text": "It may have been moved or taken down.",
        "back": "Back to the Help Center",
        "switch": "中文",
        "previous": "Previous",
        "next": "Next",
        "empty": "No articles are published yet.",
        "tagged": "Tag: {tag}",
    },
}

_STYLE = """
body{margin:0;font:16px/1.6 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;color:#1d232b;background:#f6f7f9}
header{background:#1f6feb;color:#fff;padding:14px 24px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none}
header .home{font-weight:700;font-size:20px}
header .switch{margin-left:auto;font-size:14px}
form.search{display:flex;gap:6px;flex:1;min-width:220px;max-width:520px}
form.search input{flex:1;padding:8px 10px;border-radius:6px;border:none;font:inherit}
form.search button{padding:8px 14px;border-radius:6px;border:none;background:#0d419d;color:#fff;
  font:inherit;cursor:pointer}
main{max-width:780px;margin:24px auto;padding:0 20px 40px;background:#fff;border-radius:10px;
  box-shadow:0 1px 4px rgba(0,0,0,.06)}
main>*:first-child{padding-top:20px;margin-top:0}
ul.articles{list-style:none;padding:0}
ul.articles li{padding:12px 0;border-bottom:1px solid #eef0f3}
ul.articles a{font-weight:600;color:#0d419d;text-decoration:none}
.meta{color:#6b7480;font-size:13px}
.tag{display:inline-block;background:#eef3fd;color:#0d419d;border-radius:10px;padding:0 8px;margin-right:4px;
  font-size:12px;text-decoration:none}
.snippet{color:#3b434d;font-size:14px;margin:4px 0 0}
mark{background:#fff3b0;color:inherit}
.lang{font-size:11px;border:1px solid #ccd;border-radius:4px;padding:0 4px;margin-left:6px;color:#6b7480}
article img{max-width:100%}
article table{border-collapse:collapse}
article td,article th{border:1px solid #dde;padding:4px 8px}
article pre{background:#f0f2f5;padding:10px;overflow:auto;border-radius:6px}
nav.pages{display:flex;justify-content:space-between;padding:12px 0}
"""


def markdown_html(markdown: str) -> str:
    """An article body as HTML: raw HTML escaped, dangerous link schemes refused."""
    return str(_MARKDOWN.render(markdown))


def help_url(path: str, **query: str | int | None) -> str:
    """A help-center URL with the given query parameters (None ones left out)."""
    kept = {k: v for k, v in query.items() if v is not None and v != ""}
    return f"{path}?{urlencode(kept)}" if kept else path


def page(title: str, lang: Language, body: str, *, query: str = "") -> str:
    """A whole page: header with search box and language switch, then the body (already HTML)."""
    t = TEXT[lang]
    other: Language = "en" if lang == "zh" else "zh"
    return (
        "<!doctype html>\n"
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {escape(t['help_center'])}</title><style>{_STYLE}</style></head><body>"
        f'<header><a class="home" href="{escape(help_url("/help", lang=lang))}">{escape(t["help_center"])}</a>'
        '<form class="search" action="/help/search" method="get" role="search">'
        f'<input type="search" name="q" value="{escape(query)}" placeholder="{escape(t["search_placeholder"])}"'
        f' aria-label="{escape(t["search"])}" maxlength="500">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<button type="submit">{escape(t["search"])}</button></form>'
        f'<a class="switch" href="{escape(help_url("/help", lang=other))}" lang="{other}">{escape(t["switch"])}</a>'
        f"</header><main>{body}</main></body></html>"
    )


def _tags(article: Article, lang: Language) -> str:
    return "".join(
        f'<a class="tag" href="{escape(help_url("/help", lang=lang, tag=tag))}">{escape(tag)}</a>'
        for tag in article.tags
    )


def index_page(
    articles: Sequence[Article], lang: Language, *, tag: str | None, page_number: int, has_next: bool
) -> str:
    """The front page: the published articles in one language, newest first."""
    t = TEXT[lang]
    heading = t["tagged"].format(tag=tag) if tag else t["all_articles"]
    if articles:
        items = "".join(
            f'<li><a href="{escape(help_path(a.slug))}">{escape(a.title)}</a>'
            f'<div class="meta">{_tags(a, lang)} {escape(t["updated"])} {a.updated_at:%Y-%m-%d}</div></li>'
            for a in articles
        )
        listing = f'<ul class="articles">{items}</ul>'
    else:
        listing = f"<p>{escape(t['empty'])}</p>"
    pages = ""
    if page_number > 1 or has_next:
        previous_url = help_url("/help", lang=lang, tag=tag, page=page_number - 1)
        prev = f'<a href="{escape(previous_url)}">{escape(t["previous"])}</a>' if page_number > 1 else "<span></span>"
        nxt = (
            f'<a href="{escape(help_url("/help", lang=lang, tag=tag, page=page_number + 1))}">{escape(t["next"])}</a>'
            if has_next
            else "<span></span>"
        )
        pages = f'<nav class="pages">{prev}{nxt}</nav>'
    return page(heading, lang, f"<h1>{escape(heading)}</h1>{listing}{pages}")


def _hit_item(hit: SearchHit) -> str:
    title = Snippet(hit.title, hit.title_highlights).html()
    return (
        f'<li><a href="{escape(help_path(hit.slug))}">{title}</a>'
        f'<span class="lang">{escape(hit.language)}</span>'
        f'<p class="snippet">{hit.snippet.html()}</p></li>'
    )


def search_page(query: str, lang: Language, hits: Sequence[SearchHit], others: Sequence[SearchHit]) -> str:
    """Search results in the reader's language, then (if any) in the other language."""
    t = TEXT[lang]
    heading = t["results_for"].format(q=query)
    parts = [f"<h1>{escape(heading)}</h1>"]
    if hits:
        parts.append(f'<ul class="articles">{"".join(_hit_item(h) for h in hits)}</ul>')
    elif not others:
        parts.append(f"<p>{escape(t['no_results'])}</p>")
    if others:
        parts.append(f"<h2>{escape(t['other_languages'])}</h2>")
        parts.append(f'<ul class="articles">{"".join(_hit_item(h) for h in others)}</ul>')
    return page(heading, lang, "".join(parts), query=query)


def article_page(article: Article) -> str:
    """One article, its body rendered from Markdown."""
    lang = article.language
    t = TEXT[lang]
    body = (
        f'<article lang="{"zh-CN" if lang == "zh" else "en"}"><h1>{escape(article.title)}</h1>'
        f'<div class="meta">{_tags(article, lang)} {escape(t["updated"])} {article.updated_at:%Y-%m-%d}</div>'
        f"{markdown_html(article.body_markdown)}</article>"
        f'<p><a href="{escape(help_url("/help", lang=lang))}">{escape(t["back"])}</a></p>'
    )
    return page(article.title, lang, body)


def not_found_page(lang: Language) -> str:
    """The page for a slug that is not (or no longer) published."""
    t = TEXT[lang]
    body = (
        f"<h1>{escape(t['not_found'])}</h1><p>{escape(t['not_found_text'])}</p>"
        f'<p><a href="{escape(help_url("/help", lang=lang))}">{escape(t["back"])}</a></p>'
    )
    return page(t["not_found"], lang, body)

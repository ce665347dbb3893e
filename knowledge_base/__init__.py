"""Help articles: checks, zh/en text analysis, BM25F search, Markdown and CSV import/export."""

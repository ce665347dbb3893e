"""Help articles: checks, Chinese/English text analysis, BM25F search, Markdown/CSV import and export."""

"""Customer records: fields and custom attributes, history, timeline, CSV import/export, CSAT, privacy."""

"""Analysis of conversations: complaint detection and churn risk (pure; the hub stores results)."""

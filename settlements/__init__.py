"""Finance: settlement batches, payment imports, exports, issued PDF documents, provider recovery."""

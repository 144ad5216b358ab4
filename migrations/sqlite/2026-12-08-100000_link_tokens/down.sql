DROP TABLE link_tokens;

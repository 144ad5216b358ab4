DROP TABLE email_deliveries;
DROP TABLE email_templates;

DROP TABLE person_badges;
DROP TABLE badges;
DROP TABLE automation_contacts;
DROP TABLE automation_run_actions;
DROP TABLE automation_runs;
DROP TABLE automation_versions;
DROP TABLE automations;

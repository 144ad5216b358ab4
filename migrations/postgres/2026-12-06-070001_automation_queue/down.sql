DROP TABLE automation_queue;

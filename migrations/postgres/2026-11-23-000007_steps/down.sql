DROP TABLE step_deliveries;
DROP TABLE steps;

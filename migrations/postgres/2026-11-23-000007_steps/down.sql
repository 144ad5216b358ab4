ALTER TABLE notifications ADD CONSTRAINT notifications_organization_id_fkey
    FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE;
DROP TABLE step_deliveries;
DROP TABLE steps;

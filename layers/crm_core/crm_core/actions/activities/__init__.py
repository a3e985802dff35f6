"""CRM activities (interactions): notes, finding, updating, status changes, scheduling and activity types."""

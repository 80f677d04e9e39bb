"""WTForms classes, one module per area. Field rules live here; business rules in workflows."""

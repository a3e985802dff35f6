"""Quote actions: rules, documents and emails of quotes."""

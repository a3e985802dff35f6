"""One module per ``crm.*`` action. A module that defines ``SPEC`` is registered automatically."""

"""What the tests share, one module per concern (import the module you need; nothing is re-exported here).

- ``tenants``: the seeded ``Tenant`` every test works in, and actors with exactly the grants a test needs.
- ``activities``: the system interaction types, fixed instants, and activities seeded into a tenant.
- ``quotes``: quotes seeded into a tenant, and read back.
- ``handlers``: the one way to call an action through its real Lambda handler (``invoke_action``), and test-only
  actions (``unregistered_spec``).
- ``errors``: what a refused call's error carries (``broken_rule``, ``not_found``), and the not-found check.
- ``searches``: what every search action must show (read-only, totals, paging), checked the same way for each.
- ``rows``: reading back what a call left in the database (counts, rows, audit, outbox, tags).
- ``events``: the EventBridge events moto delivered.
- ``concurrency``: calls started together on threads, and calls whose inserts really race.
- ``inputs``: valid action inputs, validated by their models, for the unit tests.
- ``local_aws``: the environment of the emulated AWS, and the state machine harness built on it.
"""

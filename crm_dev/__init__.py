"""Development tools that the Lambda layer does not ship: the crm-actions CLI, seeding, emulated AWS,
a local Lambda context and the Step Functions runner shared by the demo and the tests."""

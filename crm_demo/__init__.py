"""The demo: a seeded MSP tenant, local AWS (moto server) and the actions run through their handlers."""

"""The example app's own code: job handlers referenced from specs/jobs/*.yaml."""

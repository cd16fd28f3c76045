"""Your code: job handlers and custom resolvers."""

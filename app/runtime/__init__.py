"""Running Harken: the composition root that builds the parts, headless mode, the
history store and the in-process model's background load. No Qt."""

"""Configuration: the settings file, flags and environment, API keys, where files live,
audio devices by name, and first-run detection. No Qt."""

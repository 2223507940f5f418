"""mdm-assistant bot package."""

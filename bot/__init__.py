"""mdm-assistant core library: language, knowledge base, tickets, handoff, console and CLI."""

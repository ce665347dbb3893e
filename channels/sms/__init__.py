"""SMS and WhatsApp through Twilio (adapter.py, config.py; pure parsing in parse.py): see docs/channels-sms.md."""

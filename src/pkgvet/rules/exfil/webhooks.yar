// Chat-service webhooks and bot tokens written into a package: a ready-made channel for
// sending stolen data out. A placeholder ("<token>", "{id}") does not match: the token part
// must look real.

rule discord_webhook_with_token
{
    meta:
        id = "PV601"
        description = "Discord webhook URL with a token"
        severity = "high"
        confidence = "high"
        category = "exfiltration"
        reference = "Stealers on PyPI post tokens, cookies and screenshots to Discord webhooks"
    strings:
        $url = /https?:\/\/(ptb\.|canary\.)?discord(app)?\.com\/api\/(v[0-9]{1,2}\/)?webhooks\/[0-9]{17,20}\/[A-Za-z0-9_\-]{40,100}/
    condition:
        $url
}

rule telegram_bot_token
{
    meta:
        id = "PV602"
        description = "Telegram bot API URL with a bot token"
        severity = "high"
        confidence = "high"
        category = "exfiltration"
    strings:
        $url = /api\.telegram\.org\/bot[0-9]{8,10}:[A-Za-z0-9_\-]{35}/
    condition:
        $url
}

// Slack: `low`. Alerting code documents real-looking example URLs (litellm); stealers on PyPI
// use Discord and Telegram. Context for a reviewer, not a verdict.
rule slack_webhook_with_token
{
    meta:
        id = "PV603"
        description = "Slack incoming-webhook URL with a token"
        severity = "low"
        confidence = "high"
        category = "exfiltration"
    strings:
        $url = /hooks\.slack\.com\/services\/T[A-Z0-9]{8,12}\/B[A-Z0-9]{8,12}\/[A-Za-z0-9]{24}/
    condition:
        $url
}

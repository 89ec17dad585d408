// Hosts whose only job is to record whatever is sent to them: dependency-confusion "proofs"
// and recon payloads report the victim's host name and environment there. `medium`: a host
// name cannot tell a beacon from a docstring example (huggingface_hub documents webhooks with
// a webhook.site URL); what is sent there is graded by the Python analyzer.

rule request_capture_service
{
    meta:
        id = "PV604"
        description = "Request-capture or out-of-band interaction host (pipedream, webhook.site, interactsh, Burp Collaborator, ceye, dnslog)"
        severity = "medium"
        confidence = "medium"
        category = "exfiltration"
    strings:
        $pipedream = /[a-z0-9]{6,}\.m\.pipedream\.net/ nocase
        $webhook_site = /webhook\.site\/[0-9a-f]{8}-[0-9a-f]{4}-/ nocase
        $requestbin = /[a-z0-9]{6,}\.x\.requestbin\.com/ nocase
        $burp = /[a-z0-9]{10,}\.(burpcollaborator\.net|oastify\.com)/ nocase
        $oast = /[a-z0-9]{20,}\.(oast\.(pro|live|site|online|fun|me)|interact\.sh|interactsh\.com)/ nocase
        $dnslog = /[a-z0-9]{4,}\.(ceye\.io|dnslog\.cn)/ nocase
        $canary = /canarytokens\.com\/[a-z0-9\/]{0,40}[a-z0-9]{20,}/ nocase
    condition:
        any of them
}

rule tunnel_service_host
{
    meta:
        id = "PV605"
        description = "Hard-coded tunnel host (ngrok, trycloudflare, serveo): a home machine behind a public name"
        severity = "medium"
        confidence = "medium"
        category = "network"
    strings:
        $ngrok = /[a-z0-9][a-z0-9\-]{7,}\.(ngrok\.io|ngrok-free\.app|ngrok-free\.dev|ngrok\.app)/ nocase
        $ngrok_tcp = /[0-9]\.tcp\.([a-z]{2}\.)?ngrok\.io:[0-9]{2,5}/ nocase
        $cloudflare = /[a-z]+-[a-z]+-[a-z]+(-[a-z]+)*\.trycloudflare\.com/ nocase
        $serveo = /[a-z0-9]{6,}\.serveo\.net/ nocase
    condition:
        any of them
}

rule shell_recon_beacon
{
    meta:
        id = "PV606"
        description = "curl/wget command sending the host name or user name to a server"
        severity = "high"
        confidence = "medium"
        category = "exfiltration"
    strings:
        $curl = /(curl|wget)\s[^\n]{0,300}\$\((hostname|whoami|id|uname -a)\)[^\n]{0,300}https?:\/\//
        $curl_after = /(curl|wget)\s[^\n]{0,100}https?:\/\/[^\n]{0,300}\$\((hostname|whoami|id|uname -a)\)/
    condition:
        any of them
}

// Windows one-liners that fetch a second stage and run it.
// `irm https://.../install.ps1 | iex` is deliberately not matched: it is the documented
// installer one-liner of uv, ruff, huggingface_hub and many more, in READMEs and in code that
// prints install hints.

rule powershell_download_cradle
{
    meta:
        id = "PV630"
        description = "PowerShell download cradle (IEX (New-Object Net.WebClient).DownloadString)"
        severity = "high"
        confidence = "high"
        category = "dropper"
    strings:
        $iex_webclient = /(iex|invoke-expression)\s*[\(\s]*\(?\s*new-object\s+(system\.)?net\.webclient\s*\)?\s*\.\s*download(string|data)/ nocase
        $webclient_iex = /net\.webclient\s*\)?\s*\.\s*downloadstring\([^)]{1,300}\)\s*\|\s*(iex|invoke-expression)/ nocase
        $iwr_outfile_run = /invoke-webrequest\s[^\n]{0,300}-outfile\s[^\n]{0,200}(invoke-expression|start-process|iex)\b/ nocase
    condition:
        any of them
}

rule powershell_encoded_command
{
    meta:
        id = "PV631"
        description = "PowerShell started with an inline -EncodedCommand payload"
        severity = "high"
        confidence = "high"
        category = "dropper"
    strings:
        $enc = /powershell(\.exe)?["']?,?\s*([^\n]{0,80}\s)?["']?-(e|ec|enc|encodedcommand)["']?,?\s*["']?[A-Za-z0-9+\/]{40,}={0,2}/ nocase
    condition:
        $enc
}

rule lolbin_download
{
    meta:
        id = "PV632"
        description = "certutil -urlcache or bitsadmin /transfer download of a file"
        severity = "high"
        confidence = "medium"
        category = "dropper"
    strings:
        $certutil = /certutil(\.exe)?\s+(-[a-z]+\s+)*-urlcache\s+(-[a-z]+\s+)*(https?|ftp):\/\// nocase
        $bitsadmin = /bitsadmin(\.exe)?\s+\/transfer\s+\S+\s+(\/[a-z]+\s+)*(https?|ftp):\/\// nocase
    condition:
        any of them
}

rule executable_download_url
{
    meta:
        id = "PV633"
        description = "URL of a Windows executable on a raw IP address or the Discord CDN"
        severity = "high"
        confidence = "medium"
        category = "dropper"
    strings:
        $ip = /https?:\/\/[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(:[0-9]{2,5})?\/[^\s"'<>]{0,200}\.(exe|scr|bat|dll|ps1|vbs|msi)\b/ nocase
        $discord_cdn = /cdn\.discordapp\.(com|net)\/attachments\/[0-9]+\/[0-9]+\/[^\s"'<>]{1,200}\.(exe|scr|bat|dll|ps1|vbs|msi)\b/ nocase
    condition:
        any of them
}

rule exec_of_fetched_code
{
    meta:
        id = "PV634"
        description = "exec/eval of code fetched from a URL (urlopen(...).read(), requests.get(...).text)"
        severity = "high"
        confidence = "high"
        category = "dropper"
    strings:
        $urlopen = /\b(exec|eval)\s*\(\s*[A-Za-z_][A-Za-z0-9_\.]{0,40}urlopen\s*\([^\n]{0,300}\)\s*\.\s*read\s*\(/
        $aliased = /\b(exec|eval)\s*\(\s*[A-Za-z_][A-Za-z0-9_\.]{0,40}\s*\(\s*[rbu]?["']https?:\/\/[^"'\n]{1,300}["']\s*\)\s*\.\s*(read\s*\(|text\b|content\b)/
        $requests = /\b(exec|eval)\s*\(\s*(requests|httpx|session|s)\.get\s*\([^\n]{0,300}\)\s*\.\s*(text|content)\b/
    condition:
        any of them
}

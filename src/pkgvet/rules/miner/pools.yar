// Cryptocurrency miners: the package spends the victim's CPU for someone else.

rule stratum_pool_url
{
    meta:
        id = "PV660"
        description = "Mining pool address (stratum+tcp:// or stratum+ssl://)"
        severity = "high"
        confidence = "medium"
        category = "network"
    strings:
        $stratum = /stratum[12]?\+(tcp|ssl|tls):\/\/[a-z0-9\-\.]{3,}/ nocase
    condition:
        $stratum
}

rule xmrig_miner
{
    meta:
        id = "PV661"
        description = "XMRig miner with a pool or wallet option"
        severity = "high"
        confidence = "medium"
        category = "execution"
    strings:
        $xmrig = "xmrig" nocase
        $donate = "--donate-level"
        $pool = /(supportxmr\.com|moneroocean\.stream|nanopool\.org|2miners\.com|hashvault\.pro|c3pool\.com|minexmr\.com|xmrpool\.eu|herominers\.com)/ nocase
        $opt = /(-o|--url)[ =]+[a-z0-9\.\-]+:[0-9]{2,5}/
    condition:
        $xmrig and ($donate or $pool or $opt)
}

// Where browsers, Discord and wallets keep secrets. Reading one such path is what a cookie
// importer does (yt-dlp, browser-cookie3); the stealer shape is the Discord token regex next
// to the leveldb stores it is applied to.

rule discord_token_stealer
{
    meta:
        id = "PV610"
        description = "Discord token stealer: token regex applied to Local Storage leveldb files"
        severity = "critical"
        confidence = "high"
        category = "credentials"
    strings:
        $leveldb1 = "Local Storage\\\\leveldb" nocase
        $leveldb2 = "Local Storage/leveldb" nocase
        $leveldb3 = "leveldb" nocase
        $token_re1 = "[\\w-]{24}\\.[\\w-]{6}\\.[\\w-]{"
        $token_re2 = "mfa\\.[\\w-]{84}"
        $token_re3 = "[a-zA-Z0-9]{24}\\.[a-zA-Z0-9]{6}\\.[a-zA-Z0-9_\\-]{27}"
        $enc_prefix = "dQw4w9WgXcQ:"
    condition:
        any of ($leveldb*) and (any of ($token_re*) or $enc_prefix)
}

rule browser_credential_store
{
    meta:
        id = "PV611"
        description = "Paths of browser password and cookie stores (Login Data, Local State, logins.json)"
        severity = "medium"
        confidence = "medium"
        category = "credentials"
    strings:
        $chrome = /Google.{1,2}Chrome.{1,2}User Data/ nocase
        $edge = /Microsoft.{1,2}Edge.{1,2}User Data/ nocase
        $brave = /BraveSoftware.{1,2}Brave-Browser/ nocase
        $opera = /Opera Software.{1,2}Opera (GX )?Stable/ nocase
        $firefox = /Mozilla.{1,2}Firefox.{1,2}Profiles/ nocase
        $login_data = "Login Data"
        $web_data = "Web Data"
        $logins_json = "logins.json"
        $key4 = "key4.db"
    condition:
        2 of ($chrome, $edge, $brave, $opera, $firefox) and 2 of ($login_data, $web_data, $logins_json, $key4)
}

rule crypto_wallet_paths
{
    meta:
        id = "PV612"
        description = "Paths of several cryptocurrency wallets and wallet browser extensions"
        severity = "high"
        confidence = "medium"
        category = "credentials"
    strings:
        $exodus = /Exodus.{1,6}exodus\.wallet/ nocase
        $electrum = /Electrum.{1,2}wallets/ nocase
        $atomic = /atomic.{1,2}Local Storage.{1,2}leveldb/ nocase
        $armory = "Armory" fullword
        $metamask = "nkbihfbeogaeaoehlefnkodbefgpgknn"
        $phantom = "bfnaelmomeimhlpmgjnjophhpkkoljpa"
        $coinbase = "hnfanknocfeofbddgcijnmhnfnkdnaad"
        $binance = "fhbohimaelbohpjbbldcngcnapndodjp"
        $tronlink = "ibnejdfjmmkpcnlpebklmnkoeoihofec"
        $wallet_dat = /[\\\/]wallet\.dat/
    condition:
        3 of them
}

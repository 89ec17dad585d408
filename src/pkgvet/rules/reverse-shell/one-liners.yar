// Reverse shells: the victim's machine dials out and hands a shell to whoever listens.

rule bash_dev_tcp_shell
{
    meta:
        id = "PV620"
        description = "Shell reverse-shell one-liner (bash -i >& /dev/tcp/host/port)"
        severity = "high"
        confidence = "high"
        category = "network"
    strings:
        $dev_tcp = /(bash|sh|zsh)\s+-i\s*[0-9]?>&\s*\/dev\/(tcp|udp)\/[^\s\/]{1,255}\/[0-9{]/
        $exec_fd = /exec\s+[0-9]{1,3}<>\/dev\/tcp\//
    condition:
        any of them
}

rule netcat_exec_shell
{
    meta:
        id = "PV621"
        description = "netcat reverse shell (nc -e /bin/sh, or mkfifo piped through nc)"
        severity = "high"
        confidence = "high"
        category = "network"
    strings:
        $nc_e = /\b(nc|ncat|netcat)(\.exe)?\s+(-[a-z]+\s+)*-e\s+(\/bin\/(ba|z)?sh|cmd(\.exe)?)\b/
        $fifo = /mkfifo\s+\S+;\s*(cat|nc)\s+[^|]{0,60}\|\s*\/bin\/(ba)?sh\s+-i[^|]{0,40}\|\s*(nc|ncat)\s/
    condition:
        any of them
}

rule python_socket_reverse_shell
{
    meta:
        id = "PV622"
        description = "Python reverse shell: socket connect, dup2 of stdio onto the socket, spawn a shell"
        severity = "high"
        confidence = "high"
        category = "network"
    strings:
        $connect = ".connect((" ascii
        $dup2_0 = /dup2\(\s*[a-zA-Z_][a-zA-Z0-9_\.]*\.fileno\(\)\s*,\s*0\s*\)/
        $dup2_1 = /dup2\(\s*[a-zA-Z_][a-zA-Z0-9_\.]*\.fileno\(\)\s*,\s*1\s*\)/
        $pty = "pty.spawn("
        $sh = /["'](\/bin\/(ba|z)?sh|cmd\.exe)["']/
    condition:
        $connect and $dup2_0 and $dup2_1 and ($pty or $sh)
}

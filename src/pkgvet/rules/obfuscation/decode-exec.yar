// Decode-then-run written as text. The Python analyzer sees the live call; these rules also
// catch it in comments, strings, .pth lines, shell and non-Python files, and byte-compiled code.

rule exec_of_decoded_base64
{
    meta:
        id = "PV650"
        description = "exec/eval of base64-decoded data"
        severity = "high"
        confidence = "high"
        category = "obfuscation"
    strings:
        $direct = /\b(exec|eval)\s*\(\s*(base64\.|__import__\(\s*['"]base64['"]\s*\)\.)?(b64decode|b32decode|b16decode|b85decode|a85decode|urlsafe_b64decode|decodebytes)\s*\(/
        $compile = /\b(exec|eval)\s*\(\s*compile\s*\(\s*(base64\.)?(b64decode|urlsafe_b64decode)\s*\(/
    condition:
        any of them
}

rule exec_of_decompressed_or_unmarshalled
{
    meta:
        id = "PV651"
        description = "exec/eval of decompressed, decrypted (Fernet), unmarshalled or hex-decoded data"
        severity = "high"
        confidence = "high"
        category = "obfuscation"
    strings:
        $direct = /\b(exec|eval)\s*\(\s*(zlib\.|lzma\.|bz2\.|gzip\.|marshal\.|__import__\(\s*['"](zlib|lzma|bz2|gzip|marshal)['"]\s*\)\.)(decompress|loads)\s*\(/
        $hex = /\b(exec|eval)\s*\(\s*(bytes\.fromhex|codecs\.decode|binascii\.unhexlify|bytearray\.fromhex)\s*\(/
        $fernet = /\b(exec|eval)\s*\(\s*(cryptography\.fernet\.)?Fernet\s*\(/
        $lambda = /__import__\(\s*['"](zlib|base64|marshal|lzma)['"]\s*\)\.(decompress|b64decode|loads)\(\s*__import__\(\s*['"](zlib|base64|marshal|lzma)['"]\s*\)/
    condition:
        any of them
}

rule pyarmor_runtime
{
    meta:
        id = "PV652"
        description = "PyArmor-protected code (runtime marker): the real code cannot be read"
        severity = "medium"
        confidence = "high"
        category = "obfuscation"
    strings:
        $call = "__pyarmor__("
        $runtime = /from\s+(pytransform|pyarmor_runtime[_0-9]*)\s+import\s+(pyarmor_runtime|__pyarmor__)/
        $enter = /__armor_enter__\s*\(\s*\)/
        $header = "PY00" ascii
        $pyarmor_tag = "pyarmor" nocase
    condition:
        $call or $runtime or $enter or ($header at 0 and $pyarmor_tag)
}

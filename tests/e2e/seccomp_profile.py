"""Runs a command under an OCI seccomp profile, the JSON a kubelet's Localhost profile holds, applied through
libseccomp as runc and crun apply it. With --strict, a call the profile does not name kills the process instead
of failing with the profile's errno, so a test sees every call the list misses.

Usage: seccomp_profile.py [--strict] PROFILE COMMAND [ARGS...]   (needs python3-seccomp)
"""
import json
import os
import sys

import seccomp

OPERATORS = {
    "SCMP_CMP_EQ": seccomp.EQ,
    "SCMP_CMP_NE": seccomp.NE,
    "SCMP_CMP_LT": seccomp.LT,
    "SCMP_CMP_LE": seccomp.LE,
    "SCMP_CMP_GT": seccomp.GT,
    "SCMP_CMP_GE": seccomp.GE,
    "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ,
}


def action(name, errno):
    if name == "SCMP_ACT_ALLOW":
        return seccomp.ALLOW
    if name == "SCMP_ACT_ERRNO":
        return seccomp.ERRNO(errno)
    sys.exit(f"seccomp_profile: action {name} is not one this launcher applies")


def main(arguments):
    strict = arguments[:1] == ["--strict"]
    arguments = arguments[1:] if strict else arguments
    if len(arguments) < 2:
        sys.exit(__doc__)
    with open(arguments[0], encoding="utf-8") as file:
        profile = json.load(file)
    if profile.get("architectures") != ["SCMP_ARCH_X86_64"]:
        sys.exit("seccomp_profile: only x86-64 profiles are applied here")

    default_errno = profile.get("defaultErrnoRet", 1)
    default = seccomp.KILL_PROCESS if strict else action(profile["defaultAction"], default_errno)
    rules = seccomp.SyscallFilter(defaction=default)
    for rule in profile["syscalls"]:
        conditions = [seccomp.Arg(a["index"], OPERATORS[a["op"]], a["value"], a.get("valueTwo", 0)) for a in rule.get("args", [])]
        for name in rule["names"]:
            rules.add_rule(action(rule["action"], rule.get("errnoRet", default_errno)), name, *conditions)
    rules.load()
    os.execvp(arguments[1], arguments[1:])


if __name__ == "__main__":
    main(sys.argv[1:])

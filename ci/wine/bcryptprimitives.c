/*
 * A stand-in for bcryptprimitives.dll, which Wine gained only in 9.x:
 * Rust's standard library (1.78 and later) imports ProcessPrng from it on
 * Windows for the random keys of HashMap, so without it no Rust program
 * starts under Debian 12's Wine 8. ci/wine.sh builds this into the Wine
 * prefix when Wine has no such DLL of its own. It fills the buffer from
 * RtlGenRandom (advapi32's SystemFunction036), which Wine does have.
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

/*
 * Debian bookworm's ftpd-ssl (0.17.36+really0.17-2) never loads its server certificate: its SSL
 * initialisation only reads cert=/key= (or the default /etc/ftpd-ssl/ftpd.pem) when the "SSL active"
 * flag is already set, which happens only after the first successful handshake. Every AUTH SSL
 * handshake therefore fails with "no shared cipher".
 *
 * This LD_PRELOAD shim supplies what the server meant to load: after each SSL_CTX_new it loads the
 * certificate chain and key named by FTPD_SSL_CERT and FTPD_SSL_KEY. Everything else (AUTH SSL,
 * the TLS-P data protection, PBSZ/PROT, the handshake itself) is the unmodified server.
 *
 * No OpenSSL headers are needed: the few functions are looked up at run time.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *(*ctx_new_fn)(const void *method);
typedef int (*use_file_fn)(void *ctx, const char *file);
typedef int (*use_key_fn)(void *ctx, const char *file, int type);

#define PEM_FILETYPE 1 /* SSL_FILETYPE_PEM */

void *SSL_CTX_new(const void *method)
{
    ctx_new_fn real_new = (ctx_new_fn)dlsym(RTLD_NEXT, "SSL_CTX_new");
    void *ctx = real_new(method);
    const char *cert = getenv("FTPD_SSL_CERT");
    const char *key = getenv("FTPD_SSL_KEY");
    if (ctx == NULL || cert == NULL || key == NULL)
        return ctx;
    use_file_fn use_chain = (use_file_fn)dlsym(RTLD_DEFAULT, "SSL_CTX_use_certificate_chain_file");
    use_key_fn use_key = (use_key_fn)dlsym(RTLD_DEFAULT, "SSL_CTX_use_PrivateKey_file");
    if (use_chain == NULL || use_key == NULL || use_chain(ctx, cert) != 1 || use_key(ctx, key, PEM_FILETYPE) != 1)
        fprintf(stderr, "ftpd-ssl-cert-shim: could not load %s / %s\n", cert, key);
    return ctx;
}

using System;
using System.Runtime.InteropServices;
using System.Text;

namespace SecureFtp.Security.Tls
{
    /// <summary>The few libssl/libcrypto 3 entry points the OpenSSL backend needs (see OpenSslChannel for why it
    /// exists). Only pointer-sized and int arguments, so no unsafe code: buffers go in as <c>ref byte</c>.
    /// C <c>long</c> is pointer-sized on the Unix ABIs this runs on, hence IntPtr.</summary>
    internal static class OpenSslNative
    {
        private const string Ssl = "libssl.so.3";
        private const string Crypto = "libcrypto.so.3";

        public const int SSL_ERROR_NONE = 0;
        public const int SSL_ERROR_SSL = 1;
        public const int SSL_ERROR_WANT_READ = 2;
        public const int SSL_ERROR_WANT_WRITE = 3;
        public const int SSL_ERROR_SYSCALL = 5;
        public const int SSL_ERROR_ZERO_RETURN = 6;

        public const int SSL_CTRL_MODE = 33;
        public const int SSL_CTRL_SET_MIN_PROTO_VERSION = 123;
        public const int SSL_CTRL_SET_MAX_PROTO_VERSION = 124;
        public const int SSL_MODE_ENABLE_PARTIAL_WRITE = 1;
        public const int SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER = 2;
        public const int BIO_C_SET_BUF_MEM_EOF_RETURN = 130;
        public const int SSL_VERIFY_NONE = 0;

        public const int TLS1_VERSION = 0x0301, TLS1_1_VERSION = 0x0302, TLS1_2_VERSION = 0x0303, TLS1_3_VERSION = 0x0304;

        [DllImport(Ssl)] public static extern IntPtr TLS_client_method();
        [DllImport(Ssl)] public static extern IntPtr SSL_CTX_new(IntPtr method);
        [DllImport(Ssl)] public static extern void SSL_CTX_free(IntPtr ctx);
        [DllImport(Ssl)] public static extern IntPtr SSL_CTX_ctrl(IntPtr ctx, int cmd, IntPtr larg, IntPtr parg);
        [DllImport(Ssl)] public static extern void SSL_CTX_set_verify(IntPtr ctx, int mode, IntPtr callback);
        [DllImport(Ssl)] public static extern IntPtr SSL_new(IntPtr ctx);
        [DllImport(Ssl)] public static extern void SSL_free(IntPtr ssl);
        [DllImport(Ssl)] public static extern void SSL_set_bio(IntPtr ssl, IntPtr rbio, IntPtr wbio);
        [DllImport(Ssl)] public static extern void SSL_set_connect_state(IntPtr ssl);
        [DllImport(Ssl)] public static extern IntPtr SSL_ctrl(IntPtr ssl, int cmd, IntPtr larg, IntPtr parg);
        public const int SSL_CTRL_SET_TLSEXT_HOSTNAME = 55;
        public const int SSL_CTRL_SET_GROUPS = 91;
        public const int SSL_CTRL_GET_NEGOTIATED_GROUP = 134;
        [DllImport(Ssl, EntryPoint = "SSL_ctrl")] public static extern IntPtr SSL_ctrl_ints(IntPtr ssl, int cmd, IntPtr larg, [In, Out] int[]? parg);
        public const int TLSEXT_NAMETYPE_host_name = 0;
        [DllImport(Ssl)] public static extern int SSL_do_handshake(IntPtr ssl);
        [DllImport(Ssl)] public static extern int SSL_get_error(IntPtr ssl, int ret);
        [DllImport(Ssl)] public static extern int SSL_read(IntPtr ssl, ref byte buf, int num);
        [DllImport(Ssl)] public static extern int SSL_write(IntPtr ssl, ref byte buf, int num);
        [DllImport(Ssl)] public static extern int SSL_shutdown(IntPtr ssl);
        [DllImport(Ssl)] public static extern int SSL_set_session(IntPtr ssl, IntPtr session);
        [DllImport(Ssl)] public static extern IntPtr SSL_get1_session(IntPtr ssl);
        [DllImport(Ssl)] public static extern void SSL_SESSION_free(IntPtr session);
        [DllImport(Ssl)] public static extern int SSL_session_reused(IntPtr ssl);
        [DllImport(Ssl)] public static extern IntPtr SSL_get1_peer_certificate(IntPtr ssl);
        [DllImport(Ssl)] public static extern IntPtr SSL_get_peer_cert_chain(IntPtr ssl);
        [DllImport(Ssl)] public static extern IntPtr SSL_get_version(IntPtr ssl);
        [DllImport(Ssl)] public static extern IntPtr SSL_get_current_cipher(IntPtr ssl);
        [DllImport(Ssl)] public static extern IntPtr SSL_CIPHER_standard_name(IntPtr cipher);
        [DllImport(Ssl)] public static extern int SSL_use_certificate(IntPtr ssl, IntPtr x509);
        [DllImport(Ssl)] public static extern int SSL_use_PrivateKey(IntPtr ssl, IntPtr pkey);

        [DllImport(Crypto)] public static extern IntPtr BIO_s_mem();
        [DllImport(Crypto)] public static extern IntPtr BIO_new(IntPtr type);
        [DllImport(Crypto)] public static extern int BIO_free(IntPtr bio);
        [DllImport(Crypto)] public static extern int BIO_write(IntPtr bio, ref byte data, int len);
        [DllImport(Crypto)] public static extern int BIO_read(IntPtr bio, ref byte data, int len);
        [DllImport(Crypto)] public static extern IntPtr BIO_ctrl(IntPtr bio, int cmd, IntPtr larg, IntPtr parg);
        [DllImport(Crypto)] public static extern UIntPtr BIO_ctrl_pending(IntPtr bio);
        [DllImport(Crypto, EntryPoint = "i2d_X509")] public static extern int i2d_X509_Length(IntPtr x509, IntPtr nullOut);
        [DllImport(Crypto)] public static extern int i2d_X509(IntPtr x509, ref IntPtr output);
        [DllImport(Crypto)] public static extern IntPtr d2i_X509(IntPtr reuse, ref IntPtr input, IntPtr length);
        [DllImport(Crypto)] public static extern IntPtr d2i_AutoPrivateKey(IntPtr reuse, ref IntPtr input, IntPtr length);
        [DllImport(Crypto)] public static extern void X509_free(IntPtr x509);
        [DllImport(Crypto)] public static extern void EVP_PKEY_free(IntPtr key);
        [DllImport(Crypto)] public static extern int OPENSSL_sk_num(IntPtr stack);
        [DllImport(Crypto)] public static extern IntPtr OPENSSL_sk_value(IntPtr stack, int index);
        [DllImport(Crypto)] public static extern UIntPtr ERR_get_error();
#pragma warning disable CA1838 // called once per failure to word OpenSSL's error; a char buffer would not be measurably faster
        [DllImport(Crypto, BestFitMapping = false, ThrowOnUnmappableChar = true)] public static extern void ERR_error_string_n(UIntPtr error, StringBuilder buffer, UIntPtr length);
#pragma warning restore CA1838
        [DllImport(Crypto)] public static extern void ERR_clear_error();
        [DllImport(Crypto)] public static extern UIntPtr OpenSSL_version_num();

        private static readonly Lazy<bool> s_available = new Lazy<bool>(Probe);

        /// <summary>True where libssl 3 can be loaded (Linux with OpenSSL 3). Elsewhere SslStream is used.</summary>
        public static bool IsAvailable => s_available.Value;

        private static bool Probe()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) return false;
            try
            {
                return (OpenSSL_version_num().ToUInt64() >> 28) >= 3 && TLS_client_method() != IntPtr.Zero;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
            {
                return false;
            }
        }

        /// <summary>Drains OpenSSL's error queue into one message.</summary>
        public static string TakeErrors()
        {
            var sb = new StringBuilder();
            var buf = new StringBuilder(256);
            UIntPtr e;
            while ((e = ERR_get_error()) != UIntPtr.Zero)
            {
                buf.Clear();
                ERR_error_string_n(e, buf, (UIntPtr)256);
                if (sb.Length > 0) sb.Append("; ");
                sb.Append(buf);
            }
            return sb.ToString();
        }

        public static string? PtrToString(IntPtr p) => p == IntPtr.Zero ? null : Marshal.PtrToStringAnsi(p);

        public static byte[]? X509ToDer(IntPtr x509)
        {
            int len = i2d_X509_Length(x509, IntPtr.Zero);
            if (len <= 0) return null;
            IntPtr buffer = Marshal.AllocHGlobal(len);
            try
            {
                IntPtr cursor = buffer;
                if (i2d_X509(x509, ref cursor) != len) return null;
                var der = new byte[len];
                Marshal.Copy(buffer, der, 0, len);
                return der;
            }
            finally { Marshal.FreeHGlobal(buffer); }
        }

        /// <summary>Parses DER with a d2i_* function (which advances the pointer it is given).</summary>
        public static IntPtr ParseDer(byte[] der, bool privateKey)
        {
            IntPtr buffer = Marshal.AllocHGlobal(der.Length);
            try
            {
                Marshal.Copy(der, 0, buffer, der.Length);
                IntPtr cursor = buffer;
                return privateKey
                    ? d2i_AutoPrivateKey(IntPtr.Zero, ref cursor, (IntPtr)der.Length)
                    : d2i_X509(IntPtr.Zero, ref cursor, (IntPtr)der.Length);
            }
            finally { Marshal.FreeHGlobal(buffer); }
        }
    }
}

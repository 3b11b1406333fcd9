using System.Collections.Generic;
using System.Net;

namespace SecureFtp.Server
{
    /// <summary>Counts open control connections, in all and per client address, and refuses one beyond
    /// <see cref="SecureFtpServerOptions.MaxConnections"/> or <see cref="SecureFtpServerOptions.MaxConnectionsPerAddress"/>.
    /// Admission happens on the accept loop before anything else is spent on the connection, and every admitted
    /// connection is released exactly once when its session ends.</summary>
    internal sealed class ConnectionLimiter
    {
        private readonly int _max;
        private readonly int _maxPerAddress;
        private readonly Dictionary<string, int> _perAddress = new Dictionary<string, int>();
        private int _total;

        public ConnectionLimiter(int max, int maxPerAddress)
        {
            _max = max;
            _maxPerAddress = maxPerAddress;
        }

        /// <summary>Takes a slot for <paramref name="address"/>; null when admitted, otherwise why not.</summary>
        public string? TryAdmit(IPAddress address)
        {
            string key = ClientAddressKey.Of(address);
            lock (_perAddress)
            {
                if (_total >= _max)
                    return $"Too many connections: the server already has {_max} open; try again later.";
                _perAddress.TryGetValue(key, out int mine);
                if (_maxPerAddress > 0 && mine >= _maxPerAddress)
                    return $"Too many connections from your address ({_maxPerAddress} open); close one or try again later.";
                _perAddress[key] = mine + 1;
                _total++;
                return null;
            }
        }

        public void Release(IPAddress address)
        {
            string key = ClientAddressKey.Of(address);
            lock (_perAddress)
            {
                if (!_perAddress.TryGetValue(key, out int mine)) return;
                if (mine <= 1) _perAddress.Remove(key);
                else _perAddress[key] = mine - 1;
                _total--;
            }
        }

        public int Open
        {
            get { lock (_perAddress) return _total; }
        }
    }
}

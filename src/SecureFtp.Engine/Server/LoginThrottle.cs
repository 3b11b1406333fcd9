using System;
using System.Collections.Generic;
using System.Net;

namespace SecureFtp.Server
{
    /// <summary>Makes password guessing slow and finite, server-wide: every failed login is counted against the client
    /// address and against the user name for <see cref="SecureFtpServerOptions.FailedLoginWindow"/>; the 530 that
    /// answers it waits longer with each failure (doubling, capped); an address or a user name over its budget is
    /// refused until its failures age out. Memory is bounded: each key keeps at most its budget of timestamps, and
    /// at most <see cref="MaxTrackedKeys"/> keys are kept per table (expired ones are dropped first; beyond that new
    /// keys are not tracked, so a flood of invented names cannot push a real account's failures out).</summary>
    internal sealed class LoginThrottle
    {
        public const int MaxTrackedKeys = 10000;

        private readonly SecureFtpServerOptions _options;
        private readonly Dictionary<string, Queue<DateTime>> _byAddress = new Dictionary<string, Queue<DateTime>>();
        private readonly Dictionary<string, Queue<DateTime>> _byUser = new Dictionary<string, Queue<DateTime>>(StringComparer.Ordinal);
        private readonly object _gate = new object();
        private DateTime _lastPrune;

        public LoginThrottle(SecureFtpServerOptions options)
        {
            _options = options;
        }

        /// <summary>Addresses and user names tracked now (for tests of the memory bound).</summary>
        internal int TrackedKeys
        {
            get { lock (_gate) return _byAddress.Count + _byUser.Count; }
        }

        /// <summary>Why this address may not try to log in now, or null.</summary>
        public string? RefusalForAddress(IPAddress address)
        {
            int budget = _options.MaxFailedLoginsPerAddress;
            if (budget <= 0) return null;
            lock (_gate)
            {
                int failures = Count(_byAddress, ClientAddressKey.Of(address), DateTime.UtcNow);
                return failures >= budget
                    ? $"Too many failed logins from your address ({failures} in {Minutes(_options.FailedLoginWindow)} minutes); try again later."
                    : null;
            }
        }

        /// <summary>Why this user name may not log in now, or null.</summary>
        public string? RefusalForUser(string user)
        {
            int budget = _options.MaxFailedLoginsPerUser;
            if (budget <= 0) return null;
            lock (_gate)
            {
                int failures = Count(_byUser, user, DateTime.UtcNow);
                return failures >= budget
                    ? $"Too many failed logins for {user} ({failures} in {Minutes(_options.FailedLoginWindow)} minutes); this user name is locked for now, try again later."
                    : null;
            }
        }

        /// <summary>Counts a failed login; returns how long to wait before answering it and the counts, for the log.</summary>
        public (TimeSpan Delay, int AddressFailures, int UserFailures) RecordFailure(IPAddress address, string user)
        {
            var now = DateTime.UtcNow;
            int byAddress, byUser;
            lock (_gate)
            {
                byAddress = Add(_byAddress, ClientAddressKey.Of(address), now, Math.Max(_options.MaxFailedLoginsPerAddress, 32));
                byUser = Add(_byUser, user, now, Math.Max(_options.MaxFailedLoginsPerUser, 32));
            }
            int n = Math.Max(byAddress, byUser);
            double seconds = _options.FailedLoginDelay.TotalSeconds * Math.Pow(2, Math.Min(n - 1, 30));
            var delay = TimeSpan.FromSeconds(Math.Min(seconds, _options.MaxFailedLoginDelay.TotalSeconds));
            return (delay, byAddress, byUser);
        }

        private int Count(Dictionary<string, Queue<DateTime>> table, string key, DateTime now)
        {
            if (!table.TryGetValue(key, out var times)) return 0;
            Expire(times, now);
            if (times.Count == 0) table.Remove(key);
            return times.Count;
        }

        private int Add(Dictionary<string, Queue<DateTime>> table, string key, DateTime now, int keep)
        {
            if (!table.TryGetValue(key, out var times))
            {
                // A full table is swept at most once a second: an attacker inventing names must not make every
                // failed login walk the whole table.
                if (table.Count >= MaxTrackedKeys && now - _lastPrune > TimeSpan.FromSeconds(1))
                {
                    _lastPrune = now;
                    Prune(table, now);
                }
                if (table.Count >= MaxTrackedKeys) return 1;
                times = new Queue<DateTime>();
                table[key] = times;
            }
            Expire(times, now);
            times.Enqueue(now);
            while (times.Count > keep) times.Dequeue();
            return times.Count;
        }

        private void Expire(Queue<DateTime> times, DateTime now)
        {
            while (times.Count > 0 && now - times.Peek() > _options.FailedLoginWindow) times.Dequeue();
        }

        private void Prune(Dictionary<string, Queue<DateTime>> table, DateTime now)
        {
            var empty = new List<string>();
            foreach (var entry in table)
            {
                Expire(entry.Value, now);
                if (entry.Value.Count == 0) empty.Add(entry.Key);
            }
            foreach (var key in empty) table.Remove(key);
        }

        private static string Minutes(TimeSpan window) => Math.Max(1, (int)Math.Round(window.TotalMinutes)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

using System.Collections.Generic;
using System.Linq;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using SecureFtp.Server;

namespace SecureFtp.PowerShell
{
    /// <summary>The sessions opened in one runspace, which one is current, and the servers started there. Each
    /// runspace has its own, so parallel runspaces (and the tests) never see each other's.</summary>
    internal sealed class SessionRegistry
    {
        private static readonly ConditionalWeakTable<Runspace, SessionRegistry> PerRunspace = new ConditionalWeakTable<Runspace, SessionRegistry>();
        private readonly List<FtpSession> _sessions = new List<FtpSession>();
        private readonly List<FtpServerInfo> _servers = new List<FtpServerInfo>();
        private int _lastId;
        private int _lastServerId;

        /// <summary>The registry of the runspace running on this thread.</summary>
        public static SessionRegistry ForCurrentRunspace() => PerRunspace.GetValue(Runspace.DefaultRunspace, _ => new SessionRegistry());

        public FtpSession? Current { get; set; }

        public IReadOnlyList<FtpSession> All
        {
            get { lock (_sessions) return _sessions.ToList(); }
        }

        public FtpSession Add(FtpClient client, EngineMessageSink sink)
        {
            lock (_sessions)
            {
                var session = new FtpSession(++_lastId, client, sink);
                _sessions.Add(session);
                Current = session;
                return session;
            }
        }

        public IReadOnlyList<FtpServerInfo> Servers
        {
            get { lock (_servers) return _servers.ToList(); }
        }

        public FtpServerInfo AddServer(SecureFtpServer server)
        {
            lock (_servers)
            {
                var info = new FtpServerInfo(++_lastServerId, server);
                _servers.Add(info);
                return info;
            }
        }

        public void RemoveServer(FtpServerInfo server)
        {
            lock (_servers) _servers.Remove(server);
        }

        public void Remove(FtpSession session)
        {
            lock (_sessions)
            {
                _sessions.Remove(session);
                if (Current == session) Current = _sessions.LastOrDefault();
            }
        }
    }
}

using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace SecureFtp.LoadContext
{
    /// <summary>The module's private load context (the pattern Microsoft describes in "Resolving PowerShell module
    /// assembly dependency conflicts"). Every assembly found in deps/ comes from here; anything else (PowerShell,
    /// the runtime) falls through to the default context. Another module's BouncyCastle, loaded earlier into the
    /// default context, is therefore never the one the engine binds to.</summary>
    public sealed class ModuleLoadContext : AssemblyLoadContext
    {
        private static readonly object Gate = new object();
        private static ModuleLoadContext? _instance;
        private readonly string _dependencyDirectory;

        private ModuleLoadContext(string dependencyDirectory) : base("SecureFtp", isCollectible: false)
        {
            _dependencyDirectory = dependencyDirectory;
        }

        /// <summary>Returns the cmdlet assembly, loaded once per process into the private context.</summary>
        public static Assembly Initialize()
        {
            lock (Gate)
            {
                if (_instance == null)
                {
                    string here = Path.GetDirectoryName(typeof(ModuleLoadContext).Assembly.Location)!;
                    _instance = new ModuleLoadContext(Path.Combine(here, "deps"));
                }
                return _instance.LoadFromAssemblyName(new AssemblyName("SecureFtp"));
            }
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            string candidate = Path.Combine(_dependencyDirectory, assemblyName.Name + ".dll");
            return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
        }
    }
}

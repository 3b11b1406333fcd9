using System.Reflection;
using SecureFtp.Security.Kea;
using Xunit;

namespace SecureFtp.Tests.Kea;

public class KeaPublicSurfaceTests
{
    /// <summary>BouncyCastle stays an implementation detail: no public or protected member of the KEA
    /// types takes or returns one of its types.</summary>
    [Fact]
    public void NoBouncyCastleTypeIsVisibleOutsideTheEngine()
    {
        var offenders = new List<string>();
        var types = typeof(KeaSecurity).Assembly.GetExportedTypes().Where(t => t.Namespace == typeof(KeaSecurity).Namespace).ToList();
        Assert.Contains(typeof(KeaClientSecurity), types);
        const BindingFlags visible = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in types)
        {
            foreach (var member in type.GetMembers(visible | BindingFlags.NonPublic))
            {
                bool exposed = member switch
                {
                    MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
                    PropertyInfo p => p.GetAccessors(true).Any(a => a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly),
                    FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
                    _ => false,
                };
                if (!exposed) continue;
                var signature = member switch
                {
                    MethodBase m => m.GetParameters().Select(p => p.ParameterType).Append((m as MethodInfo)?.ReturnType ?? typeof(void)),
                    PropertyInfo p => new[] { p.PropertyType },
                    FieldInfo f => new[] { f.FieldType },
                    _ => Array.Empty<Type>(),
                };
                if (signature.Any(t => t.FullName?.StartsWith("Org.BouncyCastle", StringComparison.Ordinal) == true))
                    offenders.Add($"{type.Name}.{member.Name}");
            }
        }
        Assert.Empty(offenders);
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace SecureFtp.Bench.Mechanisms;

/// <summary>A line chart written as an RGB PNG without a plotting library: axes with tick marks and labels, a
/// light grid, the points joined by a line and labelled with their value. Text uses a 3x5 pixel font (digits and
/// the few capitals the labels need; rows of three pixels separated by spaces), drawn at <see cref="TextScale"/>.</summary>
internal sealed class PngLineChart
{
    private const int Width = 720, Height = 440;
    private const int Left = 80, Right = 30, Top = 50, Bottom = 70;
    private const int TextScale = 2;
    private static readonly (byte R, byte G, byte B) White = (255, 255, 255), Black = (0, 0, 0), Grid = (225, 225, 225), Line = (31, 96, 196);

    private readonly byte[] _pixels = new byte[Width * Height * 3];

    /// <summary>Draws <paramref name="points"/> (x, y) with x ticks at each point's x, labelled by <paramref name="xLabel"/>.</summary>
    public static byte[] Render(string title, string xTitle, string yTitle, IReadOnlyList<(double X, double Y)> points, Func<double, string> xLabel)
    {
        var chart = new PngLineChart();
        chart.Fill(0, 0, Width, Height, White);
        double xMin = points.Min(p => p.X), xMax = points.Max(p => p.X);
        double yStep = NiceStep(points.Max(p => p.Y) / 5), yMax = Math.Ceiling(points.Max(p => p.Y) * 1.1 / yStep) * yStep;
        int PlotX(double x) => Left + 20 + (int)Math.Round((x - xMin) / (xMax - xMin) * (Width - Left - Right - 40));
        int PlotY(double y) => Height - Bottom - (int)Math.Round(y / yMax * (Height - Top - Bottom));

        for (double y = 0; y <= yMax + yStep / 2; y += yStep)
        {
            int py = PlotY(y);
            if (y > 0) chart.Fill(Left + 1, py, Width - Right - Left - 1, 1, Grid);
            chart.Fill(Left - 6, py, 6, 1, Black);
            string label = y.ToString("0.##", CultureInfo.InvariantCulture);
            chart.Text(Left - 10 - TextWidth(label), py - 5, label);
        }
        foreach (var (x, _) in points)
        {
            int px = PlotX(x);
            chart.Fill(px, Height - Bottom, 1, 6, Black);
            string label = xLabel(x);
            chart.Text(px - TextWidth(label) / 2, Height - Bottom + 12, label);
        }
        chart.Fill(Left, Top, 1, Height - Top - Bottom + 1, Black);
        chart.Fill(Left, Height - Bottom, Width - Left - Right, 1, Black);
        chart.Text((Width - TextWidth(title)) / 2, 16, title);
        chart.Text((Width - TextWidth(xTitle)) / 2, Height - 28, xTitle);
        chart.Text(8, Top - 26, yTitle);

        for (int i = 1; i < points.Count; i++)
            chart.Segment(PlotX(points[i - 1].X), PlotY(points[i - 1].Y), PlotX(points[i].X), PlotY(points[i].Y));
        foreach (var (x, y) in points)
        {
            chart.Fill(PlotX(x) - 3, PlotY(y) - 3, 7, 7, Line);
            string value = y.ToString(y < 100 ? "0.0" : "0", CultureInfo.InvariantCulture);
            chart.Text(PlotX(x) - TextWidth(value) / 2, PlotY(y) - 20, value);
        }
        return chart.Encode();
    }

    private static readonly int[] NiceMultiples = [1, 2, 5, 10];

    /// <summary>1, 2 or 5 times a power of ten, at least <paramref name="rough"/>.</summary>
    private static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(rough, 1e-9))));
        return NiceMultiples.Select(m => m * power).First(s => s >= rough);
    }

    private void Fill(int x, int y, int w, int h, (byte R, byte G, byte B) color)
    {
        for (int j = Math.Max(y, 0); j < Math.Min(y + h, Height); j++)
            for (int i = Math.Max(x, 0); i < Math.Min(x + w, Width); i++)
            {
                int at = (j * Width + i) * 3;
                (_pixels[at], _pixels[at + 1], _pixels[at + 2]) = color;
            }
    }

    /// <summary>A line two pixels thick (Bresenham, each step a 2x2 dot).</summary>
    private void Segment(int x0, int y0, int x1, int y1)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            Fill(x0, y0, 2, 2, Line);
            if (x0 == x1 && y0 == y1) return;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    private static int TextWidth(string text) => text.Length * 4 * TextScale - TextScale;

    private void Text(int x, int y, string text)
    {
        foreach (char c in text.ToUpperInvariant())
        {
            string rows = Glyphs.TryGetValue(c, out var g) ? g : Glyphs['?'];
            for (int row = 0; row < 5; row++)
                for (int col = 0; col < 3; col++)
                    if (rows[row * 4 + col] == '#') Fill(x + col * TextScale, y + row * TextScale, TextScale, TextScale, Black);
            x += 4 * TextScale;
        }
    }

    private static readonly Dictionary<char, string> Glyphs = new()
    {
        ['0'] = "### #.# #.# #.# ###", ['1'] = ".#. ##. .#. .#. ###", ['2'] = "### ..# ### #.. ###", ['3'] = "### ..# ### ..# ###",
        ['4'] = "#.# #.# ### ..# ..#", ['5'] = "### #.. ### ..# ###", ['6'] = "### #.. ### #.# ###", ['7'] = "### ..# ..# ..# ..#",
        ['8'] = "### #.# ### #.# ###", ['9'] = "### #.# ### ..# ###", ['A'] = ".#. #.# ### #.# #.#", ['B'] = "##. #.# ##. #.# ##.",
        ['E'] = "### #.. ##. #.. ###", ['F'] = "### #.. ##. #.. #..", ['I'] = "### .#. .#. .#. ###", ['K'] = "#.# #.# ##. #.# #.#",
        ['M'] = "#.# ### ### #.# #.#", ['P'] = "##. #.# ##. #.. #..", ['S'] = ".## #.. .#. ..# ##.", ['T'] = "### .#. .#. .#. .#.",
        ['X'] = "#.# #.# .#. #.# #.#", ['Z'] = "### ..# .#. #.. ###", ['/'] = "..# ..# .#. #.. #..", ['-'] = "... ... ### ... ...",
        ['.'] = "... ... ... ... .#.", [' '] = "... ... ... ... ...", ['('] = ".#. #.. #.. #.. .#.", [')'] = ".#. ..# ..# ..# .#.",
        ['?'] = "### ..# .#. ... .#.", ['D'] = "##. #.# #.# #.# ##.", ['G'] = ".## #.. #.# #.# .##", ['H'] = "#.# #.# ### #.# #.#",
        ['L'] = "#.. #.. #.. #.. ###", ['N'] = "##. #.# #.# #.# #.#", ['O'] = ".#. #.# #.# #.# .#.", ['R'] = "##. #.# ##. #.# #.#",
        ['U'] = "#.# #.# #.# #.# ###", ['W'] = "#.# #.# ### ### #.#",
    };

    private byte[] Encode()
    {
        var raw = new byte[Height * (Width * 3 + 1)]; // each row: filter type 0, then RGB
        for (int row = 0; row < Height; row++)
            Array.Copy(_pixels, row * Width * 3, raw, row * (Width * 3 + 1) + 1, Width * 3);
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(raw);

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
        header[8] = 8; // bits per sample
        header[9] = 2; // colour type RGB; compression, filter and interlace stay 0
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        var lengthAndType = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(lengthAndType, data.Length);
        Encoding.ASCII.GetBytes(type, lengthAndType.AsSpan(4));
        png.Write(lengthAndType);
        png.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(lengthAndType.AsSpan(4), data));
        png.Write(crc);
    }

    /// <summary>The CRC-32 of PNG (ISO 3309, reflected polynomial 0xEDB88320) over the chunk type and data.</summary>
    private static uint Crc32(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in type) crc = Step(crc, b);
        foreach (byte b in data) crc = Step(crc, b);
        return ~crc;

        static uint Step(uint crc, byte b)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            return crc;
        }
    }
}

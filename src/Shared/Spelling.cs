namespace EchoHost.Shared;

/// <summary>"Did you mean": the closest of some words to what was typed, within two edits.</summary>
internal static class Spelling
{
    public static string? Closest(string typed, IEnumerable<string> words) =>
        words.Select(w => (Word: w, Distance: Distance(typed.ToLowerInvariant(), w.ToLowerInvariant())))
            .Where(c => c.Distance <= 2)
            .OrderBy(c => c.Distance)
            .Select(c => c.Word)
            .FirstOrDefault();

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }
}

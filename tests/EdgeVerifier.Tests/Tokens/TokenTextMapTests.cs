using EdgeVerifier.Tokens;

namespace EdgeVerifier.Tests.Tokens;

/// <summary>The bounded map behind both token caches: the bound, dead entries first, sampled admission once full.</summary>
public sealed class TokenTextMapTests
{
    private sealed class Item(bool dead = false)
    {
        public bool Dead { get; } = dead;
    }

    private static TokenTextMap<Item> Map(int entries) => new(entries, (item, _) => item.Dead);

    private static int Present(TokenTextMap<Item> map, IEnumerable<string> tokens) => tokens.Count(t => map.TryGet(t, out _));

    [Fact]
    public void Add_PastTheBound_TrimsAndNeverExceedsIt()
    {
        var map = Map(10);
        for (var i = 0; i < 500; i++)
        {
            map.Add("t" + i, new Item(), 0);
            Assert.InRange(map.Count, 1, 10);
        }
    }

    [Fact]
    public void Add_OnceFull_AdmitsOneNewEntryInEight()
    {
        var map = Map(100);
        for (var i = 0; i < 100; i++)
        {
            map.Add("first" + i, new Item(), 0);
        }

        map.Add("the-one-that-saturates", new Item(), 0); // full: trimmed to 90, then admitted
        Assert.True(map.TryGet("the-one-that-saturates", out _));
        Assert.Equal(91, map.Count);

        // 64 more distinct tokens: 8 get in (no further trim: 91 + 8 stays under the bound).
        var later = Enumerable.Range(0, 8 * TokenTextMap<Item>.AdmitOneIn).Select(i => "later" + i).ToArray();
        foreach (var token in later)
        {
            map.Add(token, new Item(), 0);
        }

        Assert.Equal(8, Present(map, later));
        Assert.Equal(99, map.Count);
    }

    [Fact]
    public void Add_SaturatedThenDrainedUnder80Percent_AdmitsFreelyAgain()
    {
        var map = Map(100);
        var items = new Dictionary<string, Item>();
        for (var i = 0; i < 101; i++)
        {
            var token = "first" + i;
            items[token] = new Item();
            map.Add(token, items[token], 0); // the 101st saturates the map: trimmed to 90, then admitted
        }

        Assert.Equal(91, map.Count);
        foreach (var (token, item) in items)
        {
            if (map.Count <= 70)
            {
                break;
            }

            map.Remove(token, item); // e.g. expired or re-keyed entries dropped on their next hit
        }

        var fresh = Enumerable.Range(0, 10).Select(i => "fresh" + i).ToArray();
        foreach (var token in fresh)
        {
            map.Add(token, new Item(), 0);
        }

        Assert.Equal(10, Present(map, fresh));
    }

    [Fact]
    public void Add_FullOfDeadEntries_DeadGoFirstAndAdmissionIsFreeAgain()
    {
        var map = Map(10);
        for (var i = 0; i < 10; i++)
        {
            map.Add("dead" + i, new Item(dead: true), 0);
        }

        map.Add("live0", new Item(), 0);
        var more = Enumerable.Range(1, 5).Select(i => "live" + i).ToArray();
        foreach (var token in more)
        {
            map.Add(token, new Item(), 0);
        }

        Assert.Equal(0, Present(map, Enumerable.Range(0, 10).Select(i => "dead" + i)));
        Assert.True(map.TryGet("live0", out _));
        Assert.Equal(5, Present(map, more));
    }

    [Fact]
    public void Remove_OnlyTheEntryThatWasRead()
    {
        var map = Map(10);
        var first = new Item();
        var second = new Item();
        map.Add("t", first, 0);
        map.Add("t", second, 0); // replaced by another writer

        map.Remove("t", first);

        Assert.True(map.TryGet("t", out var kept));
        Assert.Same(second, kept);
        map.Remove("t", second);
        Assert.False(map.TryGet("t", out _));
    }
}

using System.Text.Json.Nodes;
using Inference.Templating;

namespace Inference.Tests.Templating;

/// <summary>
/// Lexer, whitespace control and expression semantics. Every expected string below was produced by Python
/// jinja2 3.1 with the transformers settings (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
/// json.dumps as tojson) over the same Context.
/// </summary>
public class TemplateFeatureTests
{
    private const string ContextJson = """
        {"s": "  Hello World  ", "n": 5, "f": 2.5, "xs": [3, 1, 2], "d": {"b": 1, "a": [1, "x", null, true, 1.0]}, "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}, {"role": "user", "content": "bye"}], "none": null, "t": true, "empty": [], "u": "Zürich 🚀 \"q\" 'a'\n\t\\", "csv": "a,b,,c", "think": "<think>\nx\n</think>\n\nanswer"}
        """;

    private static string Render(string template) =>
        ChatTemplate.Parse(template).Render((JsonObject)JsonNode.Parse(ContextJson)!);

    [Theory]
    [InlineData("a  {% if t %}  b  {% endif %}  c", "a    b    c")]
    [InlineData("line1\n    {% if t %}\n    yes\n    {% endif %}\nend", "line1\n    yes\nend")]
    [InlineData("x {{- ' y ' -}} z", "x y z")]
    [InlineData("a\n  {%- if t -%}\n  b\n  {%- endif -%}\n  c", "abc")]
    [InlineData("a\n  {%+ if t %}b{% endif %}", "a\n  b")]
    [InlineData("{% if t +%}\nx{% endif %}", "\nx")]
    [InlineData("{# comment #}\nafter", "after")]
    [InlineData("  {# c #}\nx", "x")]
    [InlineData("a {#- c -#} b", "ab")]
    [InlineData("  {{ n }}\n{% if t %}\nA\n{% endif %}\nB", "  5\nA\nB")]
    [InlineData("{% for x in xs %}\n  {{ x }}\n{% endfor %}", "  3\n  1\n  2\n")]
    [InlineData("{{ '}}' }}{{ {'a': {'b': 1}} }}", "}}{'a': {'b': 1}}")]
    [InlineData("trailing\n", "trailing")]
    [InlineData("trailing\n\n", "trailing\n")]
    [InlineData("a\r\nb\rc", "a\nb\nc")]
    [InlineData("{% raw %}{{ x }}{% endraw %}", "{{ x }}")]
    [InlineData("x{{ n }}\n{{ n }} {% if t %}  \ny{% endif %}", "x5\n5   \ny")]
    [InlineData("{% if t %}a{% endif %}{{ '' }}\n{% if t %}b{% endif %}\n", "a\nb")]
    [InlineData("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1.0 }} {{ 0.1 + 0.2 }}", "7 3 -4 1 2 3.5 1024 1.0 0.30000000000000004")]
    [InlineData("{{ 'a' ~ n ~ none ~ missing }} {{ 'ab' * 3 }} {{ 'x' + 'y' }} {{ [1] + [2] }}", "a5None ababab xy [1, 2]")]
    [InlineData("{{ n > 3 and n < 10 }} {{ 1 < n < 3 }} {{ not t }} {{ none or 'x' }} {{ 0 and 1 }}", "True False False x 0")]
    [InlineData("{{ 'yes' if t else 'no' }} {{ 'x' if none }}|", "yes |")]
    [InlineData("{{ xs }} {{ d }} {{ none }} {{ t }} {{ (1, 'a') }} {{ (1,) }} {{ u }}", "[3, 1, 2] {'b': 1, 'a': [1, 'x', None, True, 1.0]} None True (1, 'a') (1,) Zürich 🚀 \"q\" 'a'\n\t\\")]
    [InlineData("{{ [u, \"it's\"] }}", "['Zürich 🚀 \"q\" \\'a\\'\\n\\t\\\\', \"it's\"]")]
    [InlineData("{{ xs[0] }} {{ xs[-1] }} {{ xs[::-1] }} {{ xs[1:] }} {{ xs[:2] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ xs[5] }}| {{ xs[-2:] }} {{ xs[::2] }}", "3 2 [2, 1, 3] [1, 2] [3, 1] el olleh | [1, 2] [3, 2]")]
    [InlineData("{{ d.b }} {{ d['a'][1] }} {{ d.a.1 }} {{ d.missing }}|{{ msgs[0].role }}", "1 x x |user")]
    [InlineData("{{ 'x' in 'xyz' }} {{ 2 not in xs }} {{ 'b' in d }} {{ 'q' in missing }} {{ 'hi' in msgs|map(attribute='content') }}", "True False True False True")]
    [InlineData("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ s.upper() }}|{{ s.lower() }}|{{ 'hello wORLD'.title() }}", "Hello World|Hello World  |  Hello World|hi|  HELLO WORLD  |  hello world  |Hello World")]
    [InlineData("{{ csv.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ think.split('</think>')[-1].lstrip('\\n') }}", "['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] answer")]
    [InlineData("{{ s.startswith('  H') }} {{ s.endswith('x') }} {{ 'abc'.replace('b', 'X') }} {{ '{} and {}'.format(1, 'b') }}", "True False aXc 1 and b")]
    [InlineData("{{ d.items() | list }} {{ d.keys() | list }} {{ d.get('b') }} {{ d.get('zz', 7) }} {{ d.get('zz') }}", "[('b', 1), ('a', [1, 'x', None, True, 1.0])] ['b', 'a'] 1 7 None")]
    [InlineData("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", "b=1;a=[1, 'x', None, True, 1.0];")]
    [InlineData("{% for k in d %}{{ k }}{% endfor %}", "ba")]
    [InlineData("{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }} {% endfor %}", "10TrueFalse33 21FalseFalse32 32FalseTrue31 ")]
    [InlineData("{% for x in xs if x > 1 %}{{ x }}{{ loop.last }},{% endfor %}", "3False,2True,")]
    [InlineData("{% for x in empty %}a{% else %}none{% endfor %}", "none")]
    [InlineData("{% for x in xs %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}", "3")]
    [InlineData("{% set ns = namespace(c=0) %}{% for x in xs %}{% set ns.c = ns.c + x %}{% endfor %}{{ ns.c }}", "6")]
    [InlineData("{% set y = 1 %}{% for x in xs %}{% set y = x %}{% endfor %}{{ y }}", "1")]
    [InlineData("{% if n == 1 %}a{% elif n == 5 %}b{% else %}c{% endif %}", "b")]
    [InlineData("{% set a, b = 1, 2 %}{{ a }}{{ b }}", "12")]
    [InlineData("{% set x %}inner {{ n }}{% endset %}[{{ x }}]", "[inner 5]")]
    [InlineData("{% macro m(a, b='B') %}<{{ a }}{{ b }}>{% endmacro %}{{ m(1) }}{{ m(1, b=2) }}", "<1B><12>")]
    [InlineData("{{ n is number }} {{ s is string }} {{ d is mapping }} {{ s is iterable }} {{ n is iterable }} {{ missing is defined }} {{ missing is undefined }} {{ none is none }} {{ t is true }} {{ t is false }} {{ xs is sequence }} {{ n is even }} {{ n is divisibleby 5 }} {{ 1 is sameas true }}", "True True True True False False True True True False True False True False")]
    [InlineData("{{ s|trim }}|{{ xs|length }}|{{ xs|first }}|{{ xs|last }}|{{ xs|join('-') }}|{{ missing|default('dflt') }}|{{ ''|d('e', true) }}|{{ 'aBc'|upper }}|{{ 'aBc'|lower }}|{{ 'hello wORLD'|capitalize }}|{{ 'hello wORLD'|title }}|{{ 'aaa'|replace('a','b',2) }}", "Hello World|3|3|2|3-1-2|dflt|e|ABC|abc|Hello world|Hello World|bba")]
    [InlineData("{{ n|string ~ 'x' }} {{ '42'|int + 1 }} {{ '3.7'|int }} {{ 'x'|int }} {{ '2.5'|float }} {{ xs|list }} {{ 'abc'|list }}", "5x 43 3 0 2.5 [3, 1, 2] ['a', 'b', 'c']")]
    [InlineData("{{ msgs|map(attribute='role')|join(',') }} {{ msgs|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ msgs|rejectattr('role', 'equalto', 'user')|list|length }} {{ xs|select('odd')|list }} {{ xs|reject('equalto', 1)|list }}", "user,assistant,user ['hi', 'bye'] 1 [3, 1] [3, 2]")]
    [InlineData("{{ d|items|list }} {{ d|dictsort }} {{ [1, 2, 1, 'a', 'A']|unique|list }} {{ xs|sort }} {{ xs|sum }} {{ xs|min }} {{ xs|max }}", "[('b', 1), ('a', [1, 'x', None, True, 1.0])] [('a', [1, 'x', None, True, 1.0]), ('b', 1)] [1, 2, 'a'] [1, 2, 3] 6 1 3")]
    [InlineData("{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'one two  three'|wordcount }}|{{ '<a>'|safe }}|{{ '<a href=\"x\">'|escape }}", "a\n  b\n\n  c|  a\n  b|3|<a>|&lt;a href=&#34;x&#34;&gt;")]
    [InlineData("{{ d|tojson }}|{{ u|tojson }}|{{ d|tojson(indent=2) }}|{{ {'z': 1, 'a': [1.5, none, true]}|tojson }}|{{ empty|tojson(indent=4) }}|{{ '22.5'|tojson }}|{{ 1e20|tojson }}|{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}", "{\"b\": 1, \"a\": [1, \"x\", null, true, 1.0]}|\"Zürich 🚀 \\\"q\\\" 'a'\\n\\t\\\\\"|{\n  \"b\": 1,\n  \"a\": [\n    1,\n    \"x\",\n    null,\n    true,\n    1.0\n  ]\n}|{\"z\": 1, \"a\": [1.5, null, true]}|[]|\"22.5\"|1e+20|{\"a\": 2, \"b\": 1}")]
    [InlineData("{{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1.5e-7 }} {{ 3.0 * 2 }} {{ 10 / 4 }} {{ -0.0 }} {{ 123456789.123 }} {{ 1/3 }}", "1e+16 1000000000000000.0 0.0001 1e-05 1.5e-07 6.0 2.5 -0.0 123456789.123 0.3333333333333333")]
    [InlineData("{{ msgs|length - 1 }} {{ msgs[msgs|length - 1].content }}", "2 bye")]
    [InlineData("{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ dict(a=1, b='x') }}", "[0, 1, 2] [1, 3, 5] {'a': 1, 'b': 'x'}")]
    [InlineData("{{ 'a' 'b' }} {{ \"it's\" }} {{ 'say \"hi\"' }} {{ 'tab\\there' }}", "ab it's say \"hi\" tab\there")]
    [InlineData("[{{ messages }}]{% for m in missing %}x{% endfor %}{{ missing|length }}", "[]0")]
    [InlineData("{{ {'role': 'user', 'content': 'hi'} == msgs[0] }} {{ [1, 2] == [1, 2] }} {{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ msgs[0] == msgs[2] }}", "True True True True False")]
    [InlineData("{{ 'abc'[0] }}{{ u[7] }} {{ u|length }} {{ none|string }} {{ t|string }}", "a🚀 19 None True")]
    [InlineData("{% if not missing is defined %}a{% endif %}{% if missing is not defined %}b{% endif %}{{ 5 if n > 3 else 6 }}", "ab5")]
    [InlineData("{{ xs.index(1) }} {{ xs.count(3) }} {{ n is integer }} {{ f is float }} {{ t is boolean }} {{ t is number }} {{ '%s-%d' % ('a', 3) }}", "1 1 True True True True a-3")]
    [InlineData("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %} {% for x in 'ab' %}{{ loop.revindex0 }}{{ x }}{% endfor %}", "37 1a0b")]
    [InlineData("{% for x in xs %}{% for y in [1, 2] %}{{ loop.index }}{% endfor %}{{ loop.index }}|{% endfor %}", "121|122|123|")]
    [InlineData("{{ xs|map('string')|join }} {{ [1, none, 'a']|map('string')|list }} {{ msgs|map(attribute='nope', default='D')|join }}", "312 ['1', 'None', 'a'] DDD")]
    [InlineData("{{ 'Ab'|lower is lower }} {{ ('a', 'b') }} {{ ['a']|first }} {{ empty|first }}|", "True ('a', 'b') a |")]
    [InlineData("{{ 3 - 1 - 1 }} {{ 2 * 3 % 4 }} {{ (1 + 2) ~ 3 }} {{ -2 ** 2 }} {{ not 1 == 2 }}", "1 2 33 4 True")]
    [InlineData("{% for m in msgs %}\n    {#- c #}\n    {{ m.role }}\n{% endfor %}", "    user\n    assistant\n    user\n")]
    [InlineData("a\n\t{% if t %}\n\tb\n\t{% endif %}\n", "a\n\tb\n")]
    [InlineData("{{ n }}\n  {% if t %}x{% endif %}", "5\nx")]
    [InlineData("{{ n -}}\n  {% if t %}x{% endif %}", "5x")]
    [InlineData("  {%- raw -%}  {{ y }}  {%- endraw %}\nz", "{{ y }}z")]
    [InlineData("{% if t %}\r\n  a\r\n{% endif %}\r\n", "  a\n")]
    [InlineData("{% set ns = namespace(a=1, b=[1,2]) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}", "1[1, 2]1")]
    [InlineData("{% for x in xs %}{{ loop.previtem }}-{{ loop.nextitem }}|{{ loop.cycle('a', 'b') }} {% endfor %}", "-1|a 3-2|b 1-|a ")]
    [InlineData("{{ d.b is defined }} {{ d.zz is defined }} {{ msgs[9] is defined }}", "True False False")]
    [InlineData("{{ 'He said \"hi\"'|tojson }} {{ '\\u0001\\b'|tojson }} {{ 'é'|tojson(true) }}", "\"He said \\\"hi\\\"\" \"\\u0001\\b\" \"\\u00e9\"")]
    public void Renders_like_jinja2(string template, string expected) => Assert.Equal(expected, Render(template));

    [Theory]
    [InlineData("{{ missing + 'x' }}", TemplateErrorKind.Undefined)]
    [InlineData("{{ missing.attr }}", TemplateErrorKind.Undefined)]
    [InlineData("{{ missing() }}", TemplateErrorKind.Undefined)]
    [InlineData("{{ missing['k'] }}", TemplateErrorKind.Undefined)]
    [InlineData("{{ none.startswith('x') }}", TemplateErrorKind.Undefined)]
    [InlineData("{{ d.missing.x }}", TemplateErrorKind.Undefined)]
    [InlineData("{{ missing < 1 }}", TemplateErrorKind.Undefined)]
    [InlineData("{{ -missing }}", TemplateErrorKind.Undefined)]
    [InlineData("{{ xs.append(4) }}", TemplateErrorKind.Security)]
    [InlineData("{{ d.update({}) }}", TemplateErrorKind.Security)]
    [InlineData("{{ 'a' + 1 }}", TemplateErrorKind.Runtime)]
    [InlineData("{{ missing|tojson }}", TemplateErrorKind.Undefined)]
    [InlineData("{% set x.y = 1 %}", TemplateErrorKind.Runtime)]
    [InlineData("{% for x in none %}{% endfor %}", TemplateErrorKind.Runtime)]
    [InlineData("{{ 1 // 0 }}", TemplateErrorKind.Runtime)]
    public void Render_errors(string template, TemplateErrorKind kind)
    {
        var ex = Assert.Throws<TemplateException>(() => Render(template));
        Assert.Equal(kind, ex.Kind);
        Assert.Equal(1, ex.Line);
    }

    [Theory]
    [InlineData("{% for %}")]
    [InlineData("{% if t %}")]
    [InlineData("{{ x | nosuchfilter }}")]
    [InlineData("{{ x is nosuchtest }}")]
    [InlineData("{{ 1 + }}")]
    [InlineData("{% endfor %}")]
    [InlineData("{% nosuchtag %}")]
    [InlineData("{{ 'unterminated }}")]
    [InlineData("{{ n ")]
    [InlineData("{# never closed")]
    [InlineData("{% break %}")]
    public void Syntax_errors_are_raised_by_Parse(string template)
    {
        var ex = Assert.Throws<TemplateException>(() => ChatTemplate.Parse(template));
        Assert.Equal(TemplateErrorKind.Syntax, ex.Kind);
    }

    [Fact]
    public void Syntax_errors_carry_the_line_number()
    {
        var ex = Assert.Throws<TemplateException>(() => ChatTemplate.Parse("a\nb\n{% if x %}\n{{ 1 + }}\n{% endif %}"));
        Assert.Equal(4, ex.Line);
        Assert.StartsWith("line 4: ", ex.Message);
    }

    [Fact]
    public void Raise_exception_keeps_the_message_and_is_marked_as_raised()
    {
        var ex = Assert.Throws<TemplateException>(() => Render("\n\n{{ raise_exception('Only user and assistant roles!') }}"));
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal("Only user and assistant roles!", ex.Message);
        Assert.Equal(3, ex.Line);
    }

    [Fact]
    public void Undefined_errors_name_the_missing_attribute()
    {
        var ex = Assert.Throws<TemplateException>(() => Render("{% for m in msgs %}{{ m.role + m.nothing }}{% endfor %}"));
        Assert.Equal("'dict object' has no attribute 'nothing'", ex.Detail);
    }

    [Fact]
    public void Null_is_None_but_a_missing_key_is_undefined()
    {
        var template = ChatTemplate.Parse("{{ m.content is none }} {{ m.content is defined }} [{{ m.content }}]");
        Assert.Equal("True True [None]", template.Render((JsonObject)JsonNode.Parse("""{"m": {"content": null}}""")!));
        Assert.Equal("False False []", template.Render((JsonObject)JsonNode.Parse("""{"m": {}}""")!));
    }

    [Fact]
    public void Clr_values_are_converted_to_python_values()
    {
        var template = ChatTemplate.Parse("{{ a }} {{ b }} {{ c }} {{ d }} {{ e|tojson }} {{ f }}");
        var vars = new Dictionary<string, object?>
        {
            ["a"] = 3, ["b"] = 2.5f, ["c"] = null, ["d"] = true,
            ["e"] = new Dictionary<string, object?> { ["k"] = new[] { 1, 2 } },
            ["f"] = new JsonArray("x", 1),
        };
        Assert.Equal("3 2.5 None True {\"k\": [1, 2]} ['x', 1]", template.Render(vars));
    }

    [Fact]
    public void Message_content_is_data_not_template()
    {
        var template = ChatTemplate.Parse("{{ c }}");
        Assert.Equal("{{ x }} {% if %}", template.Render(new Dictionary<string, object?> { ["c"] = "{{ x }} {% if %}" }));
    }

    [Fact]
    public void Generation_block_renders_its_body()
    {
        Assert.Equal("gen 5!", Render("{% generation %}gen {{ n }}{% endgeneration %}!"));
    }

    [Fact]
    public void Strftime_now_formats_the_local_time()
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        string before = DateTime.Now.ToString("dd MMM yyyy", culture);
        string actual = Render("{{ strftime_now('%d %b %Y') }}");
        // Either side of the render, in case it straddles midnight.
        Assert.Contains(actual, new[] { before, DateTime.Now.ToString("dd MMM yyyy", culture) });
    }

    [Fact]
    public void Render_is_thread_safe()
    {
        var template = ChatTemplate.Parse("{% set ns = namespace(t=0) %}{% for x in xs %}{% set ns.t = ns.t + x * k %}{% endfor %}{{ ns.t }}");
        Parallel.For(0, 200, i =>
        {
            var vars = new Dictionary<string, object?> { ["xs"] = new[] { 1, 2, 3 }, ["k"] = i };
            Assert.Equal((6 * i).ToString(System.Globalization.CultureInfo.InvariantCulture), template.Render(vars));
        });
    }
}

using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Templating;
using Inference.Tokenization;

namespace Inference.Cli.Commands;

/// <summary>`inference chat-template`: renders a model's chat template for a JSON input, exactly as a server would.</summary>
internal static class ChatTemplateCommand
{
    private static readonly HashSet<string> s_known = ["messages", "add_generation_prompt", "tools"];

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "model folder whose tokenizer_config.json holds the chat_template (default: the built-in model)" };
        var template = new Option<string?>("--template") { Description = "a .jinja file to use instead of the model's template" };
        var input = new Option<string>("--input") { Description = "JSON file: {\"messages\": [...], \"add_generation_prompt\": true, \"tools\": null, ...extra variables}", Required = true };
        var cmd = new Command("chat-template", "Render a chat template with messages from a JSON file (prints the text exactly)");
        cmd.Options.Add(model);
        cmd.Options.Add(template);
        cmd.Options.Add(input);
        cmd.SetAction(r => Run(r.GetValue(model), r.GetValue(template), r.GetValue(input)!, Console.Out, Console.Error));
        return cmd;
    }

    /// <summary>Renders and writes the text to <paramref name="stdout"/>; a template error is exit code 1 with its message.</summary>
    public static int Run(string? modelDir, string? templateFile, string inputFile, TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(inputFile)) throw new InferenceException($"--input file '{inputFile}' does not exist");
        JsonObject spec;
        try
        {
            spec = JsonNode.Parse(File.ReadAllText(inputFile), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }) as JsonObject
                   ?? throw new InferenceException($"{inputFile}: must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw new InferenceException($"{inputFile}: not valid JSON: {e.Message}");
        }
        var messages = spec["messages"] as JsonArray ?? throw new InferenceException($"{inputFile}: \"messages\" must be an array");
        bool addGenerationPrompt = spec["add_generation_prompt"] is JsonValue v && v.TryGetValue(out bool b) && b;
        var tools = spec["tools"] as JsonArray;
        var extra = new JsonObject();
        foreach (var (key, value) in spec)
            if (!s_known.Contains(key)) extra[key] = value?.DeepClone();

        // Only the template file and the tokenizer's special tokens are needed, not the weights.
        ITokenizer? tokenizer = templateFile is not null && modelDir is null ? null : TokenizerLoader.Load(modelDir ?? Models.DefaultModel.Ensure(CommonOptions.Log));
        string source = templateFile is not null
            ? File.Exists(templateFile) ? File.ReadAllText(templateFile) : throw new InferenceException($"--template file '{templateFile}' does not exist")
            : tokenizer!.ChatTemplate ?? throw new InferenceException($"the model in '{modelDir}' has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja)");
        try
        {
            var parsed = ChatTemplate.Parse(source);
            stdout.Write(ChatTemplateRenderer.Apply(parsed, messages, addGenerationPrompt, tools, tokenizer?.BosToken, tokenizer?.EosToken, extra));
            stdout.Flush();
            return 0;
        }
        catch (TemplateException e)
        {
            stderr.WriteLine(e.Message);
            return 1;
        }
    }
}

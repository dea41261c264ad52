"""PyTorch peer for bench/train: the same LLaMA (RMSNorm, RoPE on adjacent pairs, causal
attention, SwiGLU, untied output) trained with AdamW on random tokens; prints one JSON line
with tokens/s (forward + backward + optimizer step). Used only by the benchmark."""
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

dim, n_layers, n_heads, vocab, seq, batch, hidden, steps, threads = map(int, sys.argv[1:10])
torch.set_num_threads(threads)
torch.manual_seed(0)
hd = dim // n_heads

class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__(); self.eps = eps; self.weight = nn.Parameter(torch.ones(d))
    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight

def rope_tables(T):
    freqs = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
    a = torch.outer(torch.arange(T).float(), freqs)
    return torch.cos(a), torch.sin(a)

def rope(x, cos, sin):  # x: B, T, H, hd ; adjacent pairs
    xr = x.float().reshape(*x.shape[:-1], -1, 2)
    x0, x1 = xr[..., 0], xr[..., 1]
    c = cos.view(1, x.shape[1], 1, -1); s = sin.view(1, x.shape[1], 1, -1)
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], -1).flatten(3)

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.wq = nn.Linear(dim, dim, bias=False); self.wk = nn.Linear(dim, dim, bias=False)
        self.wv = nn.Linear(dim, dim, bias=False); self.wo = nn.Linear(dim, dim, bias=False)
        self.w1 = nn.Linear(dim, hidden, bias=False); self.w2 = nn.Linear(hidden, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.n1 = RMSNorm(dim); self.n2 = RMSNorm(dim)
    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        h = self.n1(x)
        q = rope(self.wq(h).view(B, T, n_heads, hd), cos, sin).transpose(1, 2)
        k = rope(self.wk(h).view(B, T, n_heads, hd), cos, sin).transpose(1, 2)
        v = self.wv(h).view(B, T, n_heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd) + mask
        att = F.softmax(att.float(), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, dim)
        x = x + self.wo(y)
        h = self.n2(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList([Block() for _ in range(n_layers)])
        self.norm = RMSNorm(dim); self.out = nn.Linear(dim, vocab, bias=False)
        cos, sin = rope_tables(seq)
        self.register_buffer('cos', cos); self.register_buffer('sin', sin)
        self.register_buffer('mask', torch.full((seq, seq), float('-inf')).triu(1))
    def forward(self, idx, targets):
        x = self.emb(idx)
        for l in self.layers: x = l(x, self.cos, self.sin, self.mask)
        logits = self.out(self.norm(x))
        return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))

m = Model()
opt = torch.optim.AdamW(m.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
x = torch.randint(0, vocab, (batch, seq)); y = torch.randint(0, vocab, (batch, seq))
def step():
    loss = m(x, y); opt.zero_grad(set_to_none=True); loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    return loss.item()
step()  # warm-up
t0 = time.perf_counter()
for _ in range(steps): step()
dt = time.perf_counter() - t0
print(json.dumps({"tokens_per_s": batch * seq * steps / dt, "threads": threads, "torch": torch.__version__}))

#!/usr/bin/env python3
"""Assemble the instruction snippets of test-simd.c with the host assembler
and print them as C initialisers (tests/unit/test-simd-cases.h).
Usage: tests/unit/gen-simd-cases.py > tests/unit/test-simd-cases.h
Each line: shape | instructions separated by ';' (Intel syntax). rsi points
at a 16-byte aligned memory operand area, xmm0-7, rax-rdx are random."""
import subprocess, sys, tempfile, os

CASES = r"""
F32 | addps xmm0, xmm1
F32 | addss xmm0, xmm1
F32 | subps xmm2, xmm3
F32 | mulps xmm0, xmm1
F32 | mulss xmm0, [rsi]
F32 | divps xmm0, xmm1
F32 | divss xmm4, xmm5
F32 | sqrtps xmm0, xmm1
F32 | sqrtss xmm0, xmm1
F32 | minps xmm0, xmm1
F32 | maxps xmm0, [rsi]
F32 | minss xmm0, xmm1
F32 | maxss xmm0, xmm1
F32 | cmpps xmm0, xmm1, 0
F32 | cmpps xmm0, xmm1, 1
F32 | cmpps xmm0, xmm1, 2
F32 | cmpps xmm0, xmm1, 3
F32 | cmpps xmm0, xmm1, 4
F32 | cmpps xmm0, xmm1, 5
F32 | cmpps xmm0, xmm1, 6
F32 | cmpps xmm0, xmm1, 7
F32 | cmpss xmm0, xmm1, 1
F32 | comiss xmm0, xmm1
F32 | ucomiss xmm0, xmm1
F32 | ucomiss xmm0, [rsi]
F32 | haddps xmm0, xmm1
F32 | hsubps xmm0, xmm1
F32 | addsubps xmm0, xmm1
F32 | dpps xmm0, xmm1, 0xff
F32 | dpps xmm0, xmm1, 0x35
F32 | roundps xmm0, xmm1, 0
F32 | roundps xmm0, xmm1, 1
F32 | roundps xmm0, xmm1, 2
F32 | roundps xmm0, xmm1, 3
F32 | roundps xmm0, xmm1, 4
F32 | roundss xmm0, xmm1, 0xb
F32 | cvtps2pd xmm0, xmm1
F32 | cvtps2dq xmm0, xmm1
F32 | cvttps2dq xmm0, xmm1
F32 | cvtss2sd xmm0, xmm1
F32 | cvtss2si eax, xmm1
F32 | cvttss2si rax, xmm1
F32 | cvtss2si rbx, [rsi]
F32 | cvtps2pi mm0, xmm1; movq rax, mm0; emms
F32 | shufps xmm0, xmm1, 0x1b
F32 | unpcklps xmm0, xmm1
F32 | unpckhps xmm0, xmm1
F32 | movmskps eax, xmm1
F32 | andps xmm0, xmm1
F32 | andnps xmm0, xmm1
F32 | orps xmm0, xmm1
F32 | xorps xmm0, [rsi]
F32 | insertps xmm0, xmm1, 0x5a
F32 | insertps xmm0, [rsi], 0x31
F32 | extractps eax, xmm1, 2
F32 | blendps xmm0, xmm1, 5
F32 | blendvps xmm3, xmm1
F32 | movsldup xmm0, xmm1
F32 | movshdup xmm0, xmm1
F32 | rcpps xmm0, xmm1; cmpps xmm0, xmm0, 3
F64 | addpd xmm0, xmm1
F64 | addsd xmm0, xmm1
F64 | addsd xmm0, [rsi]
F64 | subpd xmm0, xmm1
F64 | subsd xmm0, xmm1
F64 | mulpd xmm0, xmm1
F64 | mulsd xmm0, xmm1
F64 | divpd xmm0, xmm1
F64 | divsd xmm0, xmm1
F64 | sqrtpd xmm0, xmm1
F64 | sqrtsd xmm0, xmm1
F64 | minpd xmm0, xmm1
F64 | maxsd xmm0, xmm1
F64 | cmppd xmm0, xmm1, 1
F64 | cmpsd xmm0, xmm1, 2
F64 | cmpsd xmm0, xmm1, 3
F64 | cmpsd xmm0, xmm1, 4
F64 | comisd xmm0, xmm1
F64 | ucomisd xmm0, xmm1
F64 | haddpd xmm0, xmm1
F64 | hsubpd xmm0, xmm1
F64 | addsubpd xmm0, xmm1
F64 | dppd xmm0, xmm1, 0x31
F64 | roundpd xmm0, xmm1, 0
F64 | roundsd xmm0, xmm1, 1
F64 | roundsd xmm0, xmm1, 4
F64 | roundpd xmm0, xmm1, 0xa
F64 | cvtpd2ps xmm0, xmm1
F64 | cvtsd2ss xmm0, xmm1
F64 | cvtpd2dq xmm0, xmm1
F64 | cvttpd2dq xmm0, xmm1
F64 | cvtsd2si eax, xmm1
F64 | cvtsd2si rax, xmm1
F64 | cvttsd2si eax, xmm1
F64 | cvttsd2si rax, [rsi]
F64 | cvtpd2pi mm1, xmm1; movq rax, mm1; emms
F64 | cvttpd2pi mm1, xmm1; movq rax, mm1; emms
F64 | shufpd xmm0, xmm1, 1
F64 | unpcklpd xmm0, xmm1
F64 | unpckhpd xmm0, xmm1
F64 | movmskpd eax, xmm1
F64 | blendpd xmm0, xmm1, 2
F64 | blendvpd xmm2, xmm1
F64 | movddup xmm0, xmm1
F64 | movddup xmm0, [rsi]
F64 | andnpd xmm0, xmm1
INT | cvtsi2ss xmm0, eax
INT | cvtsi2ss xmm0, rax
INT | cvtsi2sd xmm0, eax
INT | cvtsi2sd xmm0, rbx
INT | cvtsi2sd xmm0, qword ptr [rsi]
INT | cvtdq2ps xmm0, xmm1
INT | cvtdq2pd xmm0, xmm1
INT | cvtpi2ps xmm0, [rsi]
INT | movq mm2, rax; cvtpi2pd xmm0, mm2; emms
INT | paddb xmm0, xmm1
INT | paddw xmm0, xmm1
INT | paddd xmm0, xmm1
INT | paddq xmm0, [rsi]
INT | psubb xmm0, xmm1
INT | psubw xmm0, xmm1
INT | psubd xmm0, xmm1
INT | psubq xmm0, xmm1
INT | paddsb xmm0, xmm1
INT | paddsw xmm0, xmm1
INT | paddusb xmm0, xmm1
INT | paddusw xmm0, xmm1
INT | psubsb xmm0, xmm1
INT | psubsw xmm0, xmm1
INT | psubusb xmm0, xmm1
INT | psubusw xmm0, xmm1
INT | pmullw xmm0, xmm1
INT | pmulhw xmm0, xmm1
INT | pmulhuw xmm0, xmm1
INT | pmuludq xmm0, xmm1
INT | pmaddwd xmm0, xmm1
INT | psadbw xmm0, xmm1
INT | pavgb xmm0, xmm1
INT | pavgw xmm0, xmm1
INT | pminub xmm0, xmm1
INT | pmaxub xmm0, xmm1
INT | pminsw xmm0, xmm1
INT | pmaxsw xmm0, xmm1
INT | pand xmm0, xmm1
INT | pandn xmm0, xmm1
INT | por xmm0, xmm1
INT | pxor xmm0, xmm1
INT | pxor xmm0, xmm0
INT | pcmpeqb xmm3, xmm3
INT | pcmpeqd xmm4, xmm4
INT | psubq xmm5, xmm5
INT | pandn xmm6, xmm6
INT | xorps xmm7, xmm7
INT | movq mm0, rax; pcmpeqw mm0, mm0; movq rax, mm0; emms
INT | movq mm1, rbx; pxor mm1, mm1; movq rbx, mm1; emms
INT | pmaddwd xmm2, [rsi]
INT | psraw xmm5, 3
INT | psrad xmm6, 31
INT | pcmpeqb xmm0, xmm1
INT | pcmpeqw xmm0, xmm1
INT | pcmpeqd xmm0, xmm1
INT | pcmpgtb xmm0, xmm1
INT | pcmpgtw xmm0, xmm1
INT | pcmpgtd xmm0, xmm1
INT | punpcklbw xmm0, xmm1
INT | punpcklwd xmm0, xmm1
INT | punpckldq xmm0, xmm1
INT | punpcklqdq xmm0, xmm1
INT | punpckhbw xmm0, xmm1
INT | punpckhwd xmm0, xmm1
INT | punpckhdq xmm0, xmm1
INT | punpckhqdq xmm0, xmm1
INT | packsswb xmm0, xmm1
INT | packssdw xmm0, xmm1
INT | packuswb xmm0, xmm1
INT | psrlw xmm0, xmm7
INT | psrld xmm0, xmm7
INT | psrlq xmm0, xmm7
INT | psraw xmm0, xmm7
INT | psrad xmm0, xmm7
INT | psllw xmm0, xmm7
INT | pslld xmm0, xmm7
INT | psllq xmm0, xmm7
INT | psrlw xmm0, 3
INT | psrld xmm1, 17
INT | psrlq xmm2, 40
INT | psraw xmm3, 15
INT | psrad xmm4, 33
INT | psllw xmm5, 16
INT | pslld xmm6, 1
INT | psllq xmm0, 63
INT | psrldq xmm1, 3
INT | pslldq xmm1, 11
INT | psrldq xmm2, 17
INT | psrldq xmm3, 0
INT | psrldq xmm4, 8
INT | psrldq xmm5, 15
INT | psrldq xmm6, 16
INT | pslldq xmm2, 0
INT | pslldq xmm3, 1
INT | pslldq xmm4, 8
INT | pslldq xmm5, 13
INT | pslldq xmm6, 16
INT | pslldq xmm7, 200
INT | pshufd xmm0, xmm1, 0x4e
INT | pshufhw xmm0, xmm1, 0x1b
INT | pshuflw xmm0, [rsi], 0xb1
INT | pinsrw xmm0, eax, 5
INT | pextrw eax, xmm1, 6
INT | pmovmskb eax, xmm1
INT | movd xmm0, eax
INT | movq xmm0, rax
INT | movd ebx, xmm1
INT | movq rbx, xmm1
INT | movd xmm2, [rsi]
INT | movd [rsi], xmm2; movdqa xmm3, [rsi]
INT | movq xmm0, xmm1
INT | movq xmm0, [rsi]
INT | movq [rsi], xmm1; movdqu xmm2, [rsi]
INT | movdqa xmm0, [rsi]
INT | movdqu xmm0, [rsi+1]
INT | movdqa [rsi], xmm1; movdqu xmm0, [rsi]
INT | movdqu [rsi+3], xmm1; movdqu xmm0, [rsi]; movdqu xmm2, [rsi+16]
INT | movaps xmm0, xmm1
INT | movups xmm0, [rsi+5]
INT | movss xmm0, xmm1
INT | movss xmm0, [rsi]
INT | movss [rsi], xmm1; movdqa xmm0, [rsi]
INT | movsd xmm0, xmm1
INT | movsd xmm0, [rsi]
INT | movlps xmm0, [rsi]
INT | movhps xmm0, [rsi]
INT | movhlps xmm0, xmm1
INT | movlhps xmm0, xmm1
INT | movhps [rsi], xmm1; movdqa xmm0, [rsi]
INT | movlpd [rsi], xmm1; movdqa xmm0, [rsi]
INT | movntdq [rsi], xmm1; movdqa xmm0, [rsi]
INT | movnti [rsi], rax; movdqa xmm0, [rsi]
INT | lddqu xmm0, [rsi+7]
INT | mfence; lfence; sfence; prefetcht0 [rsi]; clflush [rsi]
INT | pshufb xmm0, xmm1
INT | pshufb xmm2, xmm2
INT | pshufb xmm3, [rsi]
INT | movdqu xmm4, [rsi+3]; pshufb xmm5, xmm4
INT | phaddw xmm0, xmm1
INT | phaddd xmm0, xmm1
INT | phaddsw xmm0, xmm1
INT | phsubw xmm0, xmm1
INT | phsubd xmm0, xmm1
INT | phsubsw xmm0, xmm1
INT | pmaddubsw xmm0, xmm1
INT | pmulhrsw xmm0, xmm1
INT | psignb xmm0, xmm1
INT | psignw xmm0, xmm1
INT | psignd xmm0, xmm1
INT | pabsb xmm0, xmm1
INT | pabsw xmm0, xmm1
INT | pabsd xmm0, xmm1
INT | palignr xmm0, xmm1, 5
INT | palignr xmm0, xmm1, 20
INT | palignr xmm0, xmm1, 0
INT | palignr xmm0, xmm1, 4
INT | palignr xmm0, xmm1, 8
INT | palignr xmm0, xmm1, 16
INT | palignr xmm0, xmm1, 31
INT | palignr xmm0, xmm1, 32
INT | palignr xmm2, xmm2, 7
INT | palignr xmm3, [rsi], 12
INT | pblendvb xmm2, xmm1
INT | pblendw xmm0, xmm1, 0xa5
INT | ptest xmm0, xmm1
INT | ptest xmm0, xmm0
INT | pmovsxbw xmm0, xmm1
INT | pmovsxbd xmm0, xmm1
INT | pmovsxbq xmm0, xmm1
INT | pmovsxwd xmm0, xmm1
INT | pmovsxwq xmm0, [rsi]
INT | pmovsxdq xmm0, xmm1
INT | pmovzxbw xmm0, [rsi]
INT | pmovzxbd xmm0, xmm1
INT | pmovzxbq xmm0, xmm1
INT | pmovzxwd xmm0, xmm1
INT | pmovzxwq xmm0, xmm1
INT | pmovzxdq xmm0, xmm1
INT | pmuldq xmm0, xmm1
INT | pmulld xmm0, xmm1
INT | pcmpeqq xmm0, xmm1
INT | pcmpgtq xmm0, xmm1
INT | packusdw xmm0, xmm1
INT | pminsb xmm0, xmm1
INT | pminsd xmm0, xmm1
INT | pminuw xmm0, xmm1
INT | pminud xmm0, xmm1
INT | pmaxsb xmm0, xmm1
INT | pmaxsd xmm0, xmm1
INT | pmaxuw xmm0, xmm1
INT | pmaxud xmm0, xmm1
INT | phminposuw xmm0, xmm1
INT | mpsadbw xmm0, xmm1, 0
INT | mpsadbw xmm0, xmm1, 7
INT | pextrb eax, xmm1, 9
INT | pextrb [rsi], xmm1, 3; movdqa xmm0, [rsi]
INT | pextrw ebx, xmm1, 3
INT | pextrd eax, xmm1, 3
INT | pextrq rax, xmm1, 1
INT | pinsrb xmm0, eax, 15
INT | pinsrd xmm0, eax, 2
INT | pinsrq xmm0, rbx, 1
INT | movntdqa xmm0, [rsi]
INT | maskmovdqu xmm1, xmm2; movdqa xmm0, [rdi]
INT | pcmpistri xmm0, xmm1, 0x00
INT | pcmpistri xmm0, xmm1, 0x04
INT | pcmpistri xmm0, xmm1, 0x08
INT | pcmpistri xmm0, xmm1, 0x0c
INT | pcmpistri xmm0, xmm1, 0x01
INT | pcmpistri xmm0, xmm1, 0x1a
INT | pcmpistri xmm0, xmm1, 0x3a
INT | pcmpistri xmm0, xmm1, 0x4e
INT | pcmpistri xmm0, xmm1, 0x27
INT | pcmpistri xmm0, xmm1, 0x02
INT | pcmpistri xmm0, xmm1, 0x12
INT | pcmpistri xmm0, xmm1, 0x42
INT | pcmpistri xmm0, xmm1, 0x7f
INT | pcmpistri xmm2, xmm2, 0x3a
INT | pcmpistri xmm3, [rsi], 0x1a
INT | pcmpistri xmm4, xmm5, 0x3b
INT | pcmpistri xmm6, xmm7, 0x4c
INT | pcmpistrm xmm2, xmm1, 0x40
INT | pcmpistrm xmm2, xmm1, 0x09
INT | pcmpestri xmm0, xmm1, 0x00
INT | pcmpestri xmm0, xmm1, 0x0c
INT | pcmpestri xmm0, xmm1, 0x05
INT | pcmpestri xmm0, xmm1, 0x38
INT | pcmpestrm xmm2, xmm1, 0x44
INT | pcmpestrm xmm2, xmm1, 0x4b
INT | pcmpestri xmm0, [rsi], 0x0c
INT | movq mm0, rax; movq mm1, rbx; paddb mm0, mm1; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; psubusw mm0, mm1; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; pmaddwd mm0, mm1; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; punpcklbw mm0, mm1; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; punpckhdq mm0, mm1; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; packsswb mm0, mm1; movq rax, mm0; emms
INT | movq mm0, rax; psrlw mm0, 3; psllq mm0, 7; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; pshufb mm0, mm1; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; palignr mm0, mm1, 3; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; palignr mm0, mm1, 8; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; palignr mm0, mm1, 13; movq rax, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; palignr mm0, mm1, 16; movq rax, mm0; emms
INT | movq mm0, rax; palignr mm0, [rsi], 5; movq rax, mm0; emms
INT | movq mm0, rax; pshufw mm1, mm0, 0x1b; movq rbx, mm1; pmovmskb ecx, mm1; emms
INT | movq mm0, rax; pinsrw mm0, ebx, 2; pextrw ecx, mm0, 2; movq rax, mm0; emms
INT | movq mm3, [rsi]; pand mm3, mm3; movq2dq xmm0, mm3; movdq2q mm4, xmm1; movq rbx, mm4; emms
INT | movq mm0, rax; movd ecx, mm0; movd mm1, ebx; movq rbx, mm1; emms
INT | movq mm0, rax; movq mm5, rbx; paddb mm5, mm0
INT | movq mm0, rax; movq mm1, rbx; movq mm2, mm0; pcmpgtb mm2, mm1; movq rax, mm2; emms
INT | movq mm0, rax; movq mm1, rbx; movq mm3, mm0; pminsw mm3, mm1; pmaxub mm0, mm1; movq rbx, mm3; movq rcx, mm0; emms
INT | movq mm0, rax; movq mm1, rbx; pcmpgtd mm0, mm1; pcmpeqw mm1, [rsi]; movq rax, mm0; movq rbx, mm1; emms
INT | shufps xmm0, xmm0, 0x93; shufpd xmm1, xmm1, 1; pminsw xmm2, [rsi]; pmaxsw xmm3, xmm0
X87 | fld qword ptr [rsi]; fld1; movq mm3, rax; pxor mm2, mm2
INT | crc32 eax, bl
INT | crc32 eax, ebx
INT | crc32 rax, rbx
INT | popcnt rax, rbx
INT | lock cmpxchg16b [rsi]; movdqa xmm0, [rsi]
INT | mov rax, [rsi]; mov rdx, [rsi+8]; lock cmpxchg16b [rsi]; movdqa xmm0, [rsi]
INT | mov rax, [rsi]; mov rdx, [rsi+8]; cmpxchg16b [rsi+16]; cmpxchg16b [rsi]; movdqa xmm0, [rsi]; movdqa xmm1, [rsi+16]
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; faddp st(1), st
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fsubp st(1), st
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fsubrp st(1), st
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fmulp st(1), st
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fdivp st(1), st
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fdivrp st(1), st
X87 | fld qword ptr [rsi]; fadd qword ptr [rsi+8]
X87 | fld dword ptr [rsi]; fmul dword ptr [rsi+4]
X87 | fld qword ptr [rsi]; fsub dword ptr [rsi+8]
X87 | fld qword ptr [rsi]; fdiv qword ptr [rsi+8]
X87 | fld qword ptr [rsi]; fdivr qword ptr [rsi+8]
X87 | fld qword ptr [rsi]; fsqrt
X87 | fld tbyte ptr [rsi]; fld st(0); fmul st, st(1)
X87 | fld qword ptr [rsi]; fst dword ptr [rsi+32]
X87 | fld qword ptr [rsi]; fstp qword ptr [rsi+32]
X87 | fld qword ptr [rsi]; fstp tbyte ptr [rsi+32]
X87 | fld qword ptr [rsi]; fistp dword ptr [rsi+32]
X87 | fld qword ptr [rsi]; fistp qword ptr [rsi+32]
X87 | fld qword ptr [rsi]; fist word ptr [rsi+32]
X87 | fld qword ptr [rsi]; fisttp dword ptr [rsi+32]
X87 | fld qword ptr [rsi]; fisttp qword ptr [rsi+32]
X87 | fild dword ptr [rsi]; fild word ptr [rsi+4]; fild qword ptr [rsi+8]
X87 | fild dword ptr [rsi]; fiadd dword ptr [rsi+4]; fimul word ptr [rsi+8]
X87 | fld qword ptr [rsi]; frndint
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fcom st(1); fnstsw ax
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fucomp st(1); fnstsw ax
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fcompp; fnstsw ax
X87 | fld qword ptr [rsi]; fcom qword ptr [rsi+8]; fnstsw ax
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fcomi st, st(1)
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fucomip st, st(1)
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fcmovb st, st(1); fcmovnbe st, st(1)
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fcmove st, st(1); fcmovnu st, st(1)
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fxch st(1); fchs; fabs
X87 | fld qword ptr [rsi]; ftst; fnstsw ax; fxam; mov ebx, eax; fnstsw ax
X87 | fld1; fldz; fldpi; fldl2e; fldl2t; fldlg2; fldln2
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fprem
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fprem1
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fscale
X87 | fld qword ptr [rsi]; fxtract
X87 | fld qword ptr [rsi]; fbstp tbyte ptr [rsi+32]
BCD | fbld tbyte ptr [rsi]
X87 | fld qword ptr [rsi]; fld st(0); fld st(0); fld st(0); fld st(0); fld st(0); fld st(0); fld st(0); fld st(0)
X87 | fld qword ptr [rsi]; fstp st(0); fstp st(0)
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; ffree st(1); fincstp; fdecstp
X87 | fld qword ptr [rsi]; fnstenv [rsi+32]; fldenv [rsi+32]
X87 | fld qword ptr [rsi]; fnclex; fninit; fld1
X87 | fld qword ptr [rsi]; f2xm1
X87 | fld qword ptr [rsi]; fld1; .byte 0x66; fnstenv [rsi+32]; .byte 0x66; fldenv [rsi+32]
X87 | fld qword ptr [rsi]; fldpi; fnsave [rdi]; frstor [rdi]; fxch st(1)
X87 | fld qword ptr [rsi]; fldpi; .byte 0x66; fnsave [rdi]; fld1; .byte 0x66; frstor [rdi]
X87 | fld1; fld qword ptr [rsi]; fscale; fstp st(1); f2xm1
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fyl2x
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fyl2xp1
X87 | fld qword ptr [rsi]; fld qword ptr [rsi+8]; fpatan
X87 | fld qword ptr [rsi]; fptan
X87 | fld qword ptr [rsi]; fsin
X87 | fld qword ptr [rsi]; fcos
X87 | fld qword ptr [rsi]; fsincos
"""

def assemble(text):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "t.s")
        with open(src, "w") as f:
            f.write(".intel_syntax noprefix\n" + text.replace(";", "\n") + "\n")
        subprocess.run(["as", "--64", src, "-o", os.path.join(d, "t.o")], check=True)
        subprocess.run(["objcopy", "-O", "binary", "-j", ".text", os.path.join(d, "t.o"), os.path.join(d, "t.bin")], check=True)
        return open(os.path.join(d, "t.bin"), "rb").read()

def cases():
  for line in CASES.strip().splitlines():
    shape, text = [x.strip() for x in line.split("|", 1)]
    code = assemble(text)
    assert len(code) <= 32, "snippet too long for Case.code: " + text
    yield '    { "%s", SHAPE_%s, %d, { %s } },' % (text, shape, len(code), ", ".join("0x%02x" % b for b in code))

WRAP_PRO = """push rbx; push r15; mov r15, 0x10010000; fninit; fldz; fldz; fldz; fldz; fldz; fldz; fldz; fldz; fninit; fldcw [r15+0xb8]; ldmxcsr [r15+0xb0];
movdqu xmm0, [r15]; movdqu xmm1, [r15+0x10]; movdqu xmm2, [r15+0x20]; movdqu xmm3, [r15+0x30];
movdqu xmm4, [r15+0x40]; movdqu xmm5, [r15+0x50]; movdqu xmm6, [r15+0x60]; movdqu xmm7, [r15+0x70];
mov rax, [r15+0x80]; mov rbx, [r15+0x88]; mov rcx, [r15+0x90]; mov rdx, [r15+0x98];
lea rsi, [r15+0x100]; lea rdi, [r15+0x140]; push qword ptr [r15+0xa0]; popfq"""
WRAP_EPI = """pushfq; pop qword ptr [r15+0xa8]; stmxcsr [r15+0xb4];
movdqu [r15], xmm0; movdqu [r15+0x10], xmm1; movdqu [r15+0x20], xmm2; movdqu [r15+0x30], xmm3;
movdqu [r15+0x40], xmm4; movdqu [r15+0x50], xmm5; movdqu [r15+0x60], xmm6; movdqu [r15+0x70], xmm7;
mov [r15+0x80], rax; mov [r15+0x88], rbx; mov [r15+0x90], rcx; mov [r15+0x98], rdx;
fnsave [r15+0x180]; ldmxcsr [r15+0xc0]; pop r15; pop rbx"""
print("/* Generated by tests/unit/gen-simd-cases.py: do not edit. */")
print("#ifdef SIMD_CASE")
for c in cases():
    print(c)
print("#else")
for name, text in (("PROLOGUE", WRAP_PRO), ("EPILOGUE", WRAP_EPI)):
    code = assemble(text.replace("\n", " "))
    print("#define SIMD_%s { %s }" % (name, ", ".join("0x%02x" % b for b in code)))
print("#endif")
